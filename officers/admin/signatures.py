"""Trusted issuers, revocation lists, certificates, declarations, signatures and misuse reports in
the officer console; the registry's uploads and the "who signed which declaration" search."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import SignInEvent
from brokers.models import Authorization
from core.errors import ApplicationError
from officers import who_signed
from officers.actions import ActionsModelAdmin, ConfirmForm, ObjectAction
from officers.admin.filters import SigningChannelFilter
from officers.labels import choice_label, refusal_label
from officers.site import OfficerModelAdmin, officer_site, require_perm
from signatures.forms import CrlUploadForm, IssuerUploadForm
from signatures.models import (
    AbuseReport,
    Certificate,
    Declaration,
    RevocationList,
    SignatureRecord,
    TrustedIssuer,
)
from signatures.services.lifecycle import certificate_reinstate, certificate_revoke, certificate_suspend
from signatures.services.trust import crl_import, trusted_issuer_add, trusted_issuer_set_status

_REGISTRY = "signatures.change_trustedissuer"
_CERTIFICATES = "signatures.change_certificate"


@admin.register(TrustedIssuer, site=officer_site)
class TrustedIssuerAdmin(ActionsModelAdmin):
    list_display = ("name", "subject", "status", "not_after", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "subject", "fingerprint_sha256")
    exclude = ("der",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    object_actions = (
        ObjectAction(
            "retire",
            _("Retire (stop trusting)"),
            _REGISTRY,
            lambda issuer, actor, data: trusted_issuer_set_status(
                issuer=issuer, status=TrustedIssuer.Status.RETIRED, actor=actor
            ),
            form_class=ConfirmForm,
            available=lambda issuer: issuer.status == TrustedIssuer.Status.ACTIVE,
            explanation=_("Certificates it issued no longer validate."),
        ),
        ObjectAction(
            "activate",
            _("Trust again"),
            _REGISTRY,
            lambda issuer, actor, data: trusted_issuer_set_status(
                issuer=issuer, status=TrustedIssuer.Status.ACTIVE, actor=actor
            ),
            form_class=ConfirmForm,
            available=lambda issuer: issuer.status != TrustedIssuer.Status.ACTIVE,
        ),
    )


@admin.register(RevocationList, site=officer_site)
class RevocationListAdmin(OfficerModelAdmin):
    list_display = (
        "issuer",
        "crl_number",
        "this_update",
        "next_update",
        "revoked_count",
        "source",
        "created_at",
    )
    list_filter = ("source",)
    list_select_related = ("issuer",)
    exclude = ("der",)


@admin.register(Certificate, site=officer_site)
class CertificateAdmin(ActionsModelAdmin):
    list_display = ("serial_number", "organization", "signer_name", "status", "not_after")
    list_filter = ("status",)
    search_fields = ("serial_number", "fingerprint_sha256", "organization__tax_code", "subject_tax_code")
    list_select_related = ("organization",)
    exclude = ("der", "challenge")
    object_actions = (
        ObjectAction(
            "suspend",
            _("Suspend"),
            _CERTIFICATES,
            lambda cert, actor, data: certificate_suspend(
                certificate=cert, actor=actor, reason=data["reason"]
            ),
            available=lambda cert: cert.status == Certificate.Status.ACTIVE,
            explanation=_("It cannot sign until customs reinstates it."),
        ),
        ObjectAction(
            "reinstate",
            _("Reinstate"),
            _CERTIFICATES,
            lambda cert, actor, data: certificate_reinstate(certificate=cert, actor=actor),
            form_class=ConfirmForm,
            available=lambda cert: cert.status == Certificate.Status.SUSPENDED,
        ),
        ObjectAction(
            "revoke",
            _("Revoke"),
            _CERTIFICATES,
            lambda cert, actor, data: certificate_revoke(
                certificate=cert, actor=actor, reason=data["reason"]
            ),
            available=lambda cert: (
                cert.status
                in (Certificate.Status.ACTIVE, Certificate.Status.SUSPENDED, Certificate.Status.PENDING_PROOF)
            ),
            explanation=_("For good: a new binding needs a new upload."),
        ),
    )


class CodesInWordsMixin:
    """A signature's plain-text codes (no model choices: they are copied from the request as they
    came) shown by their labels."""

    @admin.display(description=_("representation"))
    def representation_label(self, obj) -> str:
        return choice_label(Authorization.Representation, obj.representation) or "—"


@admin.register(Declaration, site=officer_site)
class DeclarationAdmin(CodesInWordsMixin, OfficerModelAdmin):
    list_display = ("number", "trader", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("number", "trader__tax_code")
    list_select_related = ("trader",)
    exclude = ("document", "representation")
    readonly_fields = ("representation_label",)

    def organization_of(self, obj):
        return obj.trader


@admin.register(SignatureRecord, site=officer_site)
class SignatureRecordAdmin(CodesInWordsMixin, OfficerModelAdmin):
    personal_data = True
    list_display = (
        "declaration_number",
        "trader_tax_code",
        "signer",
        "signer_organization",
        "outcome",
        "created_at",
    )
    list_filter = ("outcome", SigningChannelFilter)
    search_fields = ("declaration_number", "trader_tax_code", "agent_number", "certificate_fingerprint")
    list_select_related = ("signer", "signer_organization")
    exclude = ("signature", "reason_code", "declaration_kind", "representation", "channel")
    readonly_fields = ("kind_label", "representation_label", "channel_label", "refusal")

    def organization_of(self, obj):
        return obj.trader

    @admin.display(description=_("kind"))
    def kind_label(self, obj) -> str:
        return choice_label(Declaration.Kind, obj.declaration_kind)

    @admin.display(description=_("channel"))
    def channel_label(self, obj) -> str:
        return choice_label(SignInEvent.Channel, obj.channel)

    @admin.display(description=_("reason"))
    def refusal(self, obj) -> str:
        return refusal_label(obj.reason_code) if obj.reason_code else "—"


@admin.register(AbuseReport, site=officer_site)
class AbuseReportAdmin(OfficerModelAdmin):
    list_display = ("organization", "reporter", "created_at")
    list_select_related = ("organization", "reporter")
    # Shown, never edited: as form fields, the flag's choices would be ordered by the flag
    # queue's ordering, whose annotations a plain queryset of flags does not have.
    fields = ("organization", "reporter", "reported_user", "description", "certificates", "flag",
              "created_at")  # fmt: skip
    readonly_fields = fields


officer_site.register_page(
    "who-signed/",
    who_signed.who_signed,
    name="who_signed",
    title=_("Who signed which declaration"),
    permission="audit.search_signatures",
)


# --- registry uploads -------------------------------------------------------------------------


def _upload_page(request, *, permission: str, form_class, title, run, done_url: str):
    """One upload form whose file goes to one service; its refusal codes become form errors."""
    require_perm(request, permission)
    posted = request.method == "POST"
    form = form_class(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = run(request.user, form.cleaned_data)
        except ApplicationError as error:
            form.add_error(form.file_field, ValidationError(str(error.detail), code=error.code))
        else:
            messages.success(request, gettext("Saved: %(object)s.") % {"object": created})
            return redirect(done_url)
    context = {
        **officer_site.each_context(request),
        "title": title,
        "form": form,
        "submit_label": gettext("Upload"),
    }
    return TemplateResponse(request, "officers/reason_form.html", context, status=400 if form.errors else 200)


def issuer_upload(request):
    return _upload_page(
        request,
        permission="signatures.add_trustedissuer",
        form_class=IssuerUploadForm,
        title=gettext("Add a trusted issuer"),
        run=lambda actor, data: trusted_issuer_add(
            data=data["certificate"], name=data["name"], crl_url=data["crl_url"], actor=actor
        ),
        done_url=reverse("officers:signatures_trustedissuer_changelist"),
    )


def crl_upload(request):
    return _upload_page(
        request,
        permission="signatures.add_revocationlist",
        form_class=CrlUploadForm,
        title=gettext("Load a revocation list (CRL)"),
        run=lambda actor, data: crl_import(data=data["crl"], actor=actor),
        done_url=reverse("officers:signatures_revocationlist_changelist"),
    )


officer_site.register_page(
    "trusted-issuers/add/",
    issuer_upload,
    name="issuer_upload",
    title=_("Add a trusted issuer"),
    permission="signatures.add_trustedissuer",
)
officer_site.register_page(
    "revocation-lists/upload/",
    crl_upload,
    name="crl_upload",
    title=_("Load a revocation list (CRL)"),
    permission="signatures.add_revocationlist",
)
