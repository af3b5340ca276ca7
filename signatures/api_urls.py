from django.urls import path

from signatures.apis import CertificateListApi, CertificateProofApi

urlpatterns = [
    path("certificates/", CertificateListApi.as_view(), name="api_certificates"),
    path("certificates/<int:pk>/proof", CertificateProofApi.as_view(), name="api_certificate_proof"),
]
