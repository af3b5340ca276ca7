from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import keys
from audit.selectors import audit_event_for_reader
from audit.services.sealing import audit_receipt_sealing_first
from core.errors import ERROR_RESPONSES, ApplicationError


class AuditPublicKeyApi(APIView):
    """The keys checkpoints are signed with: the current one and every retired one still trusted."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "AuditPublicKeys",
            {
                "log": serializers.CharField(),
                "algorithm": serializers.CharField(),
                "current_key_id": serializers.CharField(),
                "keys": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request):
        current = keys.signing_key_id()
        return Response(
            {
                "log": settings.AUDIT_LOG_ID,
                "algorithm": "Ed25519",
                "current_key_id": current,
                "keys": [
                    {"key_id": kid, "current": kid == current, "public_key_pem": keys.public_key_pem(key)}
                    for kid, key in keys.trusted_public_keys().items()
                ],
            }
        )


def audit_public_key_pem(request):
    """The current public key as a PEM file, for ``python -m audit.verify_receipt --public-key``."""
    response = HttpResponse(
        keys.public_key_pem(keys.signing_key().public_key()), content_type="application/x-pem-file"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-public-key.pem"'
    return response


class AuditEventReceiptApi(APIView):
    """The receipt of one event recorded for the caller's organisation (officers: any event)."""

    required_scope = "read"

    @extend_schema(
        responses={
            200: inline_serializer("AuditReceipt", {"event": serializers.DictField()}),
            **ERROR_RESPONSES,
        }
    )
    def get(self, request, event_id):
        # Another organisation's event is "not found", never "forbidden": no existence oracle.
        event = audit_event_for_reader(user=request.user, event_id=event_id)
        if event is None:
            raise ApplicationError("No such audit event.", code="not_found", status_code=404)
        return Response(audit_receipt_sealing_first(event=event, reader=request.user))
