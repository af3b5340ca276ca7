from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import staff_views, views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.profile, name="profile"),
    path("sign-ins/", views.signin_history, name="signin_history"),
    path("password/", views.password_change, name="password_change"),
    path("password/strength/", views.password_strength_view, name="password_strength"),
    path("sessions/", views.session_list, name="session_list"),
    path("reauthenticate/", views.reauthenticate, name="reauthenticate"),
    path("step-up/", views.step_up, name="step_up"),
    path("contact/", views.contact_edit, name="contact_edit"),
    path("mfa/", views.mfa, name="mfa"),
    path("notifications/", views.notifications, name="notifications"),
    path("staff/", staff_views.staff, name="staff"),
    path("working-hours/", views.working_hours, name="working_hours"),
    path("staff/invite/", staff_views.staff_invite, name="staff_invite"),
    path(
        "staff/invitations/<int:pk>/cancel/",
        staff_views.staff_invitation_cancel,
        name="staff_invitation_cancel",
    ),
    path("staff/<int:pk>/", staff_views.staff_member, name="staff_member"),
    path("staff/<int:pk>/deactivate/", staff_views.staff_deactivate, name="staff_deactivate"),
    path("invitation/<str:token>/", staff_views.invitation_accept, name="invitation_accept"),
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register_done"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
]
