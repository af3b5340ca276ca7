"""``/api/v1/certificates/`` (DESIGN §6): list and upload, then prove possession."""

from __future__ import annotations

import base64
import binascii
import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.validators import validate_citizen_id
from audit.models import Action, AuditEvent
from audit.services.sealing import audit_receipt_sealing_first
from core.errors import ERROR_RESPONSES, ApplicationError, ErrorSerializer
from core.queries import custom_plans
from core.text import validate_visible_text
from signatures import selectors
from signatures.models import Certificate, Declaration, IdempotencyRecord, SignatureRecord
from signatures.refusal_limit import REFUSALS, filer_of
from signatures.services import binding, signing


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
    signer_name = serializers.CharField(max_length=150, validators=[validate_visible_text])
    signer_id_number = serializers.CharField(max_length=12, validators=[validate_citizen_id])
    signer_title = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default="", validators=[validate_visible_text]
    )


class CertificateUploadRequestSerializer(CertificateUploadSerializer):
    certificate = serializers.CharField(
        help_text="base64 of the PEM or DER certificate (or send a multipart file)"
    )


class CertificateListApi(APIView):
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
        certificate = binding.certificate_upload(actor=request.user, data=data, **details.validated_data)
        return Response(CertificateOutputSerializer(certificate).data, status=status.HTTP_201_CREATED)


class CertificateProofApi(APIView):
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
        certificate = binding.certificate_prove(certificate=certificate, proof=proof, actor=request.user)
        return Response(CertificateOutputSerializer(certificate).data)


class CertificateChallengeApi(APIView):
    """The binding challenge as a file: byte for byte what must be signed (no trailing newline)."""

    required_scope = "manage"

    @extend_schema(responses={(200, "text/plain"): str, **ERROR_RESPONSES})
    def get(self, request, pk: int):
        certificate = selectors.certificate_for_viewer(viewer=request.user, pk=pk)
        if certificate is None:
            raise ApplicationError(_("No such certificate."), code="not_found", status_code=404)
        if certificate.status != Certificate.Status.PENDING_PROOF:
            raise ApplicationError(
                _("This certificate is not waiting for a proof of possession."),
                code="invalid_status",
                status_code=409,
            )
        response = HttpResponse(
            certificate.challenge.encode("ascii"), content_type="text/plain; charset=us-ascii"
        )
        response["Content-Disposition"] = f'attachment; filename="challenge-{certificate.pk}.txt"'
        return response


class CustodiansInputSerializer(serializers.Serializer):
    custodians = serializers.ListField(
        child=serializers.CharField(max_length=150),
        max_length=200,
        allow_empty=True,
        help_text="usernames of the enterprise's active signers; replaces the current list",
    )


class CertificateCustodiansApi(APIView):
    """Name who may sign with a certificate of my enterprise (an owner's or administrator's key)."""

    required_scope = "manage"

    @extend_schema(
        request=CustodiansInputSerializer, responses={200: CertificateOutputSerializer, **ERROR_RESPONSES}
    )
    def put(self, request, pk: int):
        certificate = selectors.certificate_for_viewer(viewer=request.user, pk=pk)
        if certificate is None or certificate.organization_id != request.user.organization_id:
            raise ApplicationError(_("No such certificate."), code="not_found", status_code=404)
        names = CustodiansInputSerializer(data=request.data)
        names.is_valid(raise_exception=True)
        wanted = list(dict.fromkeys(names.validated_data["custodians"]))
        users = list(selectors.organization_members_by_username(certificate.organization_id, wanted))
        unknown = sorted(set(wanted) - {user.username for user in users})
        if unknown:
            raise ApplicationError(
                _("Only active signers of your enterprise can hold a certificate."),
                code="custodian_invalid",
                fields={"custodians": unknown},
            )
        binding.custodians_set(certificate=certificate, users=users, actor=request.user)
        certificate.refresh_from_db()
        return Response(CertificateOutputSerializer(certificate).data)


# Plain serializers with declared fields: a ModelSerializer rebuilds its fields from the model on
# every instantiation, which costs the signing endpoint more than its own rules do.
class SignatureRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    outcome = serializers.ChoiceField(choices=SignatureRecord.Outcome.choices, read_only=True)
    reason_code = serializers.CharField(read_only=True)
    declaration_number = serializers.CharField(read_only=True)
    declaration_kind = serializers.CharField(read_only=True)
    trader_tax_code = serializers.CharField(read_only=True)
    signer = serializers.CharField(source="signer.username", read_only=True)
    signer_organization = serializers.CharField(source="signer_organization.tax_code", read_only=True)
    agent_number = serializers.CharField(read_only=True)
    certificate_fingerprint = serializers.CharField(read_only=True)
    certificate_serial = serializers.CharField(
        source="certificate.serial_number", default=None, read_only=True
    )
    authorization = serializers.IntegerField(source="authorization_id", allow_null=True, read_only=True)
    representation = serializers.CharField(read_only=True)
    document_sha256 = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class DeclarationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Declaration.Kind.choices, read_only=True)
    trader_tax_code = serializers.CharField(source="trader.tax_code", read_only=True)
    representation = serializers.CharField(read_only=True)
    document_sha256 = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    signature = SignatureRecordSerializer(read_only=True)
    receipt = serializers.SerializerMethodField()
    # The control channel the trader's compliance level suggests (green, yellow, red).
    suggested_channel = serializers.ChoiceField(
        source="trader.suggested_channel", choices=["green", "yellow", "red"], read_only=True
    )

    def get_receipt(self, declaration) -> str:
        return reverse("api_declaration_receipt", args=[declaration.pk])


# What the field accepts, for the schema: base64 of at least one byte, in whole quanta, with the
# surrounding whitespace it strips (a request the schema allows is never refused as malformed).
BASE64_PATTERN = r"^\s*(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})\s*$"


@extend_schema_field({"type": "string", "format": "byte", "minLength": 4, "pattern": BASE64_PATTERN})
class Base64Field(serializers.Field):
    """Base64 text decoded to bytes. Not a ``CharField``: its validators walk the text character by
    character (for surrogates, which strict base64 decoding refuses anyway), and a declaration's
    document and signature are tens of kilobytes on every filing."""

    default_error_messages = {
        "invalid": gettext_lazy("Must be a base64 string."),
        "blank": gettext_lazy("This field may not be blank."),
        "too_large": gettext_lazy("This file is too large."),
        "invalid_base64": gettext_lazy("This is not valid base64."),
    }

    def __init__(self, *, max_bytes: int, **kwargs):
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> bytes:
        if not isinstance(data, str):
            self.fail("invalid")
        data = data.strip()  # as a CharField would: a trailing newline from `base64` is harmless
        if not data:
            self.fail("blank")
        if len(data) > self.max_bytes * 4 // 3 + 8:
            self.fail("too_large")
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):  # ValueError: text that is not ASCII
            self.fail("invalid_base64")

    def to_representation(self, value: bytes) -> str:
        return base64.b64encode(value).decode()


class DeclarationInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=32, validators=[validate_visible_text])
    kind = serializers.ChoiceField(choices=Declaration.Kind.choices)
    trader_tax_code = serializers.CharField(max_length=20)
    representation = serializers.ChoiceField(
        choices=[("direct", "direct"), ("indirect", "indirect")], required=False
    )
    document = Base64Field(
        max_bytes=signing.MAX_DOCUMENT_BYTES, help_text="base64 of the exact document bytes that were signed"
    )
    signature = Base64Field(
        max_bytes=1024 * 1024, help_text="base64 of the detached CMS (PKCS#7) SignedData, DER"
    )


MAX_IDEMPOTENCY_KEY = 255


class DeclarationListApi(GenericAPIView):
    """File a signed declaration, or list those filed by or for my organisation."""

    required_scopes = {"GET": "read", "POST": "declare"}
    serializer_class = DeclarationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Declaration.objects.none()
        return selectors.declaration_list(viewer=self.request.user)

    @extend_schema(operation_id="declarations_list", responses=DeclarationSerializer(many=True))
    @custom_plans()
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DeclarationSerializer(page, many=True).data)

    @extend_schema(
        request=DeclarationInputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={201: DeclarationSerializer, **ERROR_RESPONSES, 422: ErrorSerializer},
    )
    def post(self, request):
        ident = filer_of(request)
        wait = REFUSALS.wait(ident)
        if wait is not None:
            raise exceptions.Throttled(
                wait,
                detail=_("Too many refused filings from this API key; wait before filing again."),
                code="too_many_refusals",
            )
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise ApplicationError(
                _("An Idempotency-Key has at most %(count)d characters.") % {"count": MAX_IDEMPOTENCY_KEY},
                code="invalid_idempotency_key",
                fields={"Idempotency-Key": ["max_length"]},
            )
        if key:
            return idempotent(request, key, lambda: self._file(request))
        status_code, body = self._file(request)
        return Response(body, status=status_code)

    def _file(self, request) -> tuple[int, dict]:
        data = DeclarationInputSerializer(data=request.data)
        if not data.is_valid():
            detail = _("The request is invalid.")
            return 400, {"code": "invalid_input", "detail": detail, "fields": data.errors}
        values = data.validated_data
        record = signing.declaration_sign(
            actor=request.user,
            number=values["number"],
            kind=values["kind"],
            trader_tax_code=values["trader_tax_code"],
            representation=values.get("representation", ""),
            document=values["document"],
            signature=values["signature"],
            channel="api",
        )
        if record.outcome == SignatureRecord.Outcome.REJECTED:
            REFUSALS.count(filer_of(request))
            refusal = record.refusal
            return refusal.status_code, {
                "code": refusal.code,
                "detail": refusal.message,
                "fields": {"signature_record": record.pk},
            }
        return 201, DeclarationSerializer(record.declaration).data


def _storable(value):
    """``value`` with NUL characters replaced: PostgreSQL's JSON cannot hold them, and an error
    answer may quote a field that carried one. The first answer is the stored one, so a replay
    matches it."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(name): _storable(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def idempotent(request, key: str, produce) -> Response:
    """The first answer for ``key`` is stored with a digest of the request, in the same transaction
    as the work; a repeat gets the same answer. A concurrent twin waits on the unique index and then
    reads the winner's answer."""
    organization, scope = request.user.organization, filer_of(request)
    digest = hashlib.sha256(request.body).hexdigest()
    try:
        with transaction.atomic():
            claim = IdempotencyRecord.objects.create(
                organization=organization, scope=scope, key=key, request_sha256=digest
            )
            status_code, body = produce()
            body = _storable(body)
            claim.status_code, claim.response = status_code, body
            claim.save(update_fields=["status_code", "response"])
            return Response(body, status=status_code)
    except IntegrityError:
        pass
    first = IdempotencyRecord.objects.filter(organization=organization, scope=scope, key=key).first()
    if first is None or first.request_sha256 != digest:
        raise ApplicationError(
            "This Idempotency-Key was used for a different request.",
            code="idempotency_key_reused",
            status_code=422,
        )
    response = Response(first.response, status=first.status_code)
    response["Idempotent-Replay"] = "true"
    return response


class DeclarationDetailApi(APIView):
    required_scope = "read"

    @extend_schema(responses={200: DeclarationSerializer, **ERROR_RESPONSES})
    def get(self, request, pk: int):
        declaration = selectors.declaration_list(viewer=request.user).filter(pk=pk).first()
        if declaration is None:
            raise ApplicationError("No such declaration.", code="not_found", status_code=404)
        return Response(DeclarationSerializer(declaration).data)


class DeclarationReceiptApi(APIView):
    """The audit receipt of the signature: event, chain position, Merkle proof, signed checkpoint."""

    required_scope = "read"

    @extend_schema(
        responses={
            200: inline_serializer("DeclarationReceipt", {"event": serializers.DictField()}),
            **ERROR_RESPONSES,
        }
    )
    def get(self, request, pk: int):
        declaration = selectors.declaration_list(viewer=request.user).filter(pk=pk).first()
        if declaration is None:
            raise ApplicationError("No such declaration.", code="not_found", status_code=404)
        return Response(_receipt_of(declaration.signature, request.user))


class SignatureRecordOutputSerializer(SignatureRecordSerializer):
    receipt = serializers.SerializerMethodField()

    def get_receipt(self, record) -> str:
        return reverse("api_signature_record_receipt", args=[record.pk])


class SignatureRecordListApi(GenericAPIView):
    """Every attempt to sign made by my organisation or in its name, accepted or refused with its
    code, newest first (cursor pages), ``?outcome=``: a broker reads its refused filings here."""

    required_scope = "read"
    serializer_class = SignatureRecordOutputSerializer
    filterset_fields = ["outcome"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return SignatureRecord.objects.none()
        return selectors.signature_records_for(viewer=self.request.user)

    @extend_schema(
        operation_id="signature_records_list", responses=SignatureRecordOutputSerializer(many=True)
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(SignatureRecordOutputSerializer(page, many=True).data)


def _receipt_of(record: SignatureRecord, reader) -> dict:
    """The audit receipt of one attempt: its ``declaration.signed`` or ``declaration.rejected`` event."""
    event = AuditEvent.objects.filter(
        action__in=[Action.DECLARATION_SIGNED, Action.DECLARATION_REJECTED],
        target_type="signatures.signaturerecord",
        target_id=str(record.pk),
    ).first()
    return audit_receipt_sealing_first(event=event, reader=reader)


def _signature_record(request, pk: int) -> SignatureRecord:
    record = selectors.signature_records_for(viewer=request.user).filter(pk=pk).first()
    if record is None:  # another organisation's record is not found, like one that does not exist
        raise ApplicationError("No such signature record.", code="not_found", status_code=404)
    return record


class SignatureRecordDetailApi(APIView):
    required_scope = "read"

    @extend_schema(responses={200: SignatureRecordOutputSerializer, **ERROR_RESPONSES})
    def get(self, request, pk: int):
        return Response(SignatureRecordOutputSerializer(_signature_record(request, pk)).data)


class SignatureRecordReceiptApi(APIView):
    """The audit receipt of one attempt: its ``declaration.signed`` or ``declaration.rejected`` event."""

    required_scope = "read"

    @extend_schema(
        responses={200: inline_serializer("SignatureRecordReceipt", {"event": serializers.DictField()}),
                   **ERROR_RESPONSES}
    )  # fmt: skip
    def get(self, request, pk: int):
        return Response(_receipt_of(_signature_record(request, pk), request.user))
