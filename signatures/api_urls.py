from django.urls import path

from signatures.apis import (
    CertificateListApi,
    CertificateProofApi,
    DeclarationDetailApi,
    DeclarationListApi,
    DeclarationReceiptApi,
)

urlpatterns = [
    path("certificates/", CertificateListApi.as_view(), name="api_certificates"),
    path("certificates/<int:pk>/proof", CertificateProofApi.as_view(), name="api_certificate_proof"),
    path("declarations/", DeclarationListApi.as_view(), name="api_declarations"),
    path("declarations/<int:pk>", DeclarationDetailApi.as_view(), name="api_declaration"),
    path("declarations/<int:pk>/receipt", DeclarationReceiptApi.as_view(), name="api_declaration_receipt"),
]
