from django.urls import path

from signatures import views

urlpatterns = [
    path("", views.declaration_list, name="declaration_list"),
    path("sign/", views.declaration_sign, name="declaration_sign"),
    path("notices/", views.signature_notice, name="signature_notice"),
]
