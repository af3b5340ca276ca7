from django.urls import path

from signatures import views

urlpatterns = [
    path("", views.certificate_list, name="certificate_list"),
    path("upload/", views.certificate_upload, name="certificate_upload"),
    path("report-misuse/", views.abuse_report, name="abuse_report"),
    path("<int:pk>/", views.certificate_detail, name="certificate_detail"),
    path("<int:pk>/status/", views.certificate_status_change, name="certificate_status_change"),
    path("<int:pk>/proof/", views.certificate_proof, name="certificate_proof"),
    path("<int:pk>/challenge.txt", views.certificate_challenge, name="certificate_challenge"),
]
