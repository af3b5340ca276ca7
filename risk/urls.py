from django.urls import path

from risk import views

# Included under accounts/ (config.urls): the links already mailed keep working.
urlpatterns = [
    path("sign-in-review/<str:token>/", views.signin_review, name="signin_review"),
]
