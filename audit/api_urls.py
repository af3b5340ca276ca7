from django.urls import path

from audit import apis

urlpatterns = [
    path("public-key", apis.AuditPublicKeyApi.as_view(), name="audit-public-key"),
    path("public-key.pem", apis.audit_public_key_pem, name="audit-public-key-pem"),
    path("events/<uuid:event_id>/receipt", apis.AuditEventReceiptApi.as_view(), name="audit-event-receipt"),
]
