from django.urls import path

from signatures.apis import (
    CertificateChallengeApi,
    CertificateCustodiansApi,
    CertificateListApi,
    CertificateProofApi,
    DeclarationDetailApi,
    DeclarationListApi,
    DeclarationReceiptApi,
    SignatureRecordDetailApi,
    SignatureRecordListApi,
    SignatureRecordReceiptApi,
)

urlpatterns = [
    path("certificates/", CertificateListApi.as_view(), name="api_certificates"),
    path("certificates/<int:pk>/proof", CertificateProofApi.as_view(), name="api_certificate_proof"),
    path(
        "certificates/<int:pk>/challenge", CertificateChallengeApi.as_view(), name="api_certificate_challenge"
    ),
    path(
        "certificates/<int:pk>/custodians",
        CertificateCustodiansApi.as_view(),
        name="api_certificate_custodians",
    ),
    path("declarations/", DeclarationListApi.as_view(), name="api_declarations"),
    path("declarations/<int:pk>", DeclarationDetailApi.as_view(), name="api_declaration"),
    path("declarations/<int:pk>/receipt", DeclarationReceiptApi.as_view(), name="api_declaration_receipt"),
    path("signature-records/", SignatureRecordListApi.as_view(), name="api_signature_records"),
    path("signature-records/<int:pk>", SignatureRecordDetailApi.as_view(), name="api_signature_record"),
    path(
        "signature-records/<int:pk>/receipt",
        SignatureRecordReceiptApi.as_view(),
        name="api_signature_record_receipt",
    ),
]
