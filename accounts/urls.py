from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.profile, name="profile"),
    path("sign-ins/", views.signin_history, name="signin_history"),
    path("password/", views.password_change, name="password_change"),
    path("sessions/", views.session_list, name="session_list"),
    path("reauthenticate/", views.reauthenticate, name="reauthenticate"),
    path("contact/", views.contact_edit, name="contact_edit"),
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register_done"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
]
