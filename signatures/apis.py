"""``/api/v1/certificates/`` (DESIGN §6): list and upload, then prove possession."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.validators import validate_citizen_id
from config.errors import ERROR_RESPONSES, ApplicationError
from signatures import selectors, services
from signatures.models import Certificate


class CertificateOutputSerializer(serializers.ModelSerializer):
    issuer = serializers.CharField(source="issuer_name")
    custodians = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    challenge = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "id", "status", "status_reason", "subject", "subject_tax_code", "serial_number", "issuer",
            "fingerprint_sha256", "not_before", "not_after", "signer_name", "signer_title",
            "bound_at", "custodians", "challenge", "challenge_expires_at",
        ]  # fmt: skip

    def get_challenge(self, certificate) -> str | None:
        # Only while it can still be answered; the signer's ID number is never sent back.
        return certificate.challenge if certificate.status == Certificate.Status.PENDING_PROOF else None


def _binary(request, file_field: str, base64_field: str) -> bytes:
    """The bytes of an uploaded file, or of a base64 field in JSON."""
    limit = settings.MAX_CERT_UPLOAD_BYTES
    upload = request.FILES.get(file_field)
    if upload is not None:
        return upload.read(limit + 1)  # one byte more than allowed is enough to refuse it
    encoded = request.data.get(base64_field)
    if not isinstance(encoded, str) or not encoded:
        raise ApplicationError(
            f"Send the file as '{file_field}' (multipart) or base64 in '{base64_field}'.",
            code="invalid_input",
            fields={base64_field: ["required"]},
        )
    try:
        # Decoding at most one byte more than allowed is enough to refuse the rest by its size.
        return base64.b64decode(encoded[: (limit + 3) // 3 * 4 + 4], validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError(
            "Not valid base64.", code="invalid_input", fields={base64_field: ["invalid"]}
        ) from None


class CertificateUploadSerializer(serializers.Serializer):
    signer_name = serializers.CharField(max_length=150)
    signer_id_number = serializers.CharField(max_length=12, validators=[validate_citizen_id])
    signer_title = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class CertificateUploadRequestSerializer(CertificateUploadSerializer):
    certificate = serializers.CharField(
        help_text="base64 of the PEM or DER certificate (or send a multipart file)"
    )


class CertificateListApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    required_scopes = {"GET": "read", "POST": "manage"}

    @extend_schema(responses=CertificateOutputSerializer(many=True))
    def get(self, request):
        certificates = selectors.certificate_list(viewer=request.user)
        return Response(CertificateOutputSerializer(certificates, many=True).data)

    @extend_schema(
        request=CertificateUploadRequestSerializer,
        responses={201: CertificateOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request):
        details = CertificateUploadSerializer(data=request.data)
        details.is_valid(raise_exception=True)
        data = _binary(request, "file", "certificate")
        certificate = services.certificate_upload(actor=request.user, data=data, **details.validated_data)
        return Response(CertificateOutputSerializer(certificate).data, status=status.HTTP_201_CREATED)


class CertificateProofApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    required_scope = "manage"

    @extend_schema(
        request=inline_serializer(
            "CertificateProof",
            {"signature": serializers.CharField(help_text="base64 of proof.sig (raw signature or CMS)")},
        ),
        responses={200: CertificateOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, pk: int):
        certificate = selectors.certificate_for_viewer(viewer=request.user, pk=pk)
        if certificate is None:
            raise ApplicationError("No such certificate.", code="not_found", status_code=404)
        proof = _binary(request, "file", "signature")
        certificate = services.certificate_prove(certificate=certificate, proof=proof, actor=request.user)
        return Response(CertificateOutputSerializer(certificate).data)
