"""Trusted issuers, revocation lists, certificates, declarations and signatures in the officer console."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import services as account_services
from accounts.models import Organization
from audit import selectors as audit_selectors
from audit.charts import day_series, stacked_bars
from audit.officers import (
    DASHBOARD_DAYS,
    ActionsModelAdmin,
    ConfirmForm,
    ObjectAction,
    OfficerModelAdmin,
    Panel,
    ReasonForm,
    officer_site,
    officer_view_record,
    require_perm,
)
from core.pagination import UncountedPage
from core.reversing import reverse_each
from signatures import selectors
from signatures.forms import CrlUploadForm, IssuerUploadForm, SignatureSearchForm
from signatures.models import (
    AbuseReport,
    Certificate,
    Declaration,
    RevocationList,
    SignatureRecord,
    TrustedIssuer,
)
from signatures.policies import reason_text
from signatures.rows import who_signed_rows
from signatures.services import compliance_pending, lifecycle, trust

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
            lambda issuer, actor, data: trust.trusted_issuer_set_status(
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
            lambda issuer, actor, data: trust.trusted_issuer_set_status(
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
            lambda cert, actor, data: lifecycle.certificate_suspend(
                certificate=cert, actor=actor, reason=data["reason"]
            ),
            available=lambda cert: cert.status == Certificate.Status.ACTIVE,
            explanation=_("It cannot sign until customs reinstates it."),
        ),
        ObjectAction(
            "reinstate",
            _("Reinstate"),
            _CERTIFICATES,
            lambda cert, actor, data: lifecycle.certificate_reinstate(certificate=cert, actor=actor),
            form_class=ConfirmForm,
            available=lambda cert: cert.status == Certificate.Status.SUSPENDED,
        ),
        ObjectAction(
            "revoke",
            _("Revoke"),
            _CERTIFICATES,
            lambda cert, actor, data: lifecycle.certificate_revoke(
                certificate=cert, actor=actor, reason=data["reason"]
            ),
            available=lambda cert: (
                cert.status
                in (Certificate.Status.ACTIVE, Certificate.Status.SUSPENDED, Certificate.Status.PENDING_PROOF)
            ),
            explanation=_("For good: a new binding needs a new upload."),
        ),
    )


@admin.register(Declaration, site=officer_site)
class DeclarationAdmin(OfficerModelAdmin):
    list_display = ("number", "trader", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("number", "trader__tax_code")
    list_select_related = ("trader",)
    exclude = ("document",)

    def organization_of(self, obj):
        return obj.trader


@admin.register(SignatureRecord, site=officer_site)
class SignatureRecordAdmin(OfficerModelAdmin):
    personal_data = True
    list_display = (
        "declaration_number",
        "trader_tax_code",
        "signer",
        "signer_organization",
        "outcome",
        "created_at",
    )
    list_filter = ("outcome", "channel")
    search_fields = ("declaration_number", "trader_tax_code", "agent_number", "certificate_fingerprint")
    list_select_related = ("signer", "signer_organization")
    exclude = ("signature",)

    def organization_of(self, obj):
        return obj.trader


@admin.register(AbuseReport, site=officer_site)
class AbuseReportAdmin(OfficerModelAdmin):
    list_display = ("organization", "reporter", "created_at")
    list_select_related = ("organization", "reporter")


class ClassifyForm(ReasonForm):
    level = forms.ChoiceField(
        label=_("Compliance level"),
        choices=[choice for choice in Organization.ComplianceLevel.choices if choice[0] != "unclassified"],
    )
    field_order = ("level", "reason")


_ORGANIZATIONS = "accounts.change_organization"
_CLASSIFY = "audit.classify_enterprise"


@admin.register(Organization, site=officer_site)
class OrganizationAdmin(ActionsModelAdmin):
    list_display = ("name", "tax_code", "kind", "status", "compliance_level", "non_cooperation", "province")
    list_filter = ("kind", "status", "compliance_level", "non_cooperation")
    search_fields = ("name", "tax_code")
    readonly_fields = ("segment", "channel", "reasons")
    exclude = ("compliance_reasons",)
    object_actions = (
        ObjectAction(
            "classify",
            _("Set the compliance level"),
            _CLASSIFY,
            lambda org, actor, data: compliance_pending.compliance_override_set(
                organization=org, level=data["level"], reason=data["reason"], actor=actor
            ),
            form_class=ClassifyForm,
            explanation=_(
                "Your level holds, whatever the nightly classification computes, until you clear it."
            ),
        ),
        ObjectAction(
            "clear-classification",
            _("Clear the officer's level"),
            _CLASSIFY,
            lambda org, actor, data: compliance_pending.compliance_override_clear(
                organization=org, reason=data["reason"], actor=actor
            ),
            available=lambda org: bool(org.compliance_override_level),
        ),
        ObjectAction(
            "reclassify",
            _("Recompute the level now"),
            _CLASSIFY,
            lambda org, actor, data: compliance_pending.compliance_classify(organization=org),
            form_class=ConfirmForm,
        ),
        ObjectAction(
            "verify",
            _("Verify"),
            _ORGANIZATIONS,
            lambda org, actor, data: account_services.organization_verify(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status == Organization.Status.PENDING_VERIFICATION,
        ),
        ObjectAction(
            "suspend",
            _("Suspend"),
            _ORGANIZATIONS,
            lambda org, actor, data: account_services.organization_suspend(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status != Organization.Status.SUSPENDED,
        ),
        ObjectAction(
            "reinstate",
            _("Lift the suspension"),
            _ORGANIZATIONS,
            lambda org, actor, data: account_services.organization_reinstate(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status == Organization.Status.SUSPENDED,
        ),
        ObjectAction(
            "mark-non-cooperation",
            _("Mark as not cooperating"),
            _ORGANIZATIONS,
            lambda org, actor, data: account_services.organization_non_cooperation_set(
                organization=org, marked=True, actor=actor, reason=data["reason"]
            ),
            available=lambda org: not org.non_cooperation,
        ),
        ObjectAction(
            "clear-non-cooperation",
            _("Clear the non-cooperation mark"),
            _ORGANIZATIONS,
            lambda org, actor, data: account_services.organization_non_cooperation_set(
                organization=org, marked=False, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.non_cooperation,
        ),
    )

    def organization_of(self, obj):
        return obj

    @admin.display(description=_("compliance pyramid segment"))
    def segment(self, obj) -> str:
        return obj.compliance_segment

    @admin.display(description=_("suggested channel"))
    def channel(self, obj) -> str:
        return obj.suggested_channel

    @admin.display(description=_("classification reasons"))
    def reasons(self, obj) -> str:
        return (
            format_html_join("", "<li>{}</li>", ((reason_text(reason),) for reason in obj.compliance_reasons))
            or "—"
        )


# --- "who signed which declaration" ---------------------------------------------------------

SEARCH_LIMIT = 500  # rows in a CSV export
# Rows on a page, newest first, with "older" and "newer" links: a page of 100 took a worker
# some 25 ms to build (the scale benchmark), and a person reads the newest first.
PAGE_SIZE = 50


def _hit_row(record, event_id: str | None, urls: dict[str, Callable[[object], str]]) -> dict:
    """One search hit (a row of ``selectors.signature_search``) as the page and the CSV show it."""
    full_name = f"{record.signer__first_name} {record.signer__last_name}".strip()  # User.get_full_name
    return {
        "record": record,
        "record_url": urls["record"](record.pk),
        "declaration": record.declaration_number,
        "kind": record.declaration_kind,
        "time": record.created_at,
        "signer": f"{full_name} ({record.signer__username})",
        "organization": f"{record.signer_organization__name} ({record.signer_organization__tax_code})",
        "on_behalf_of": (
            f"{record.trader__name} ({record.trader_tax_code})" if record.trader else record.trader_tax_code
        ),
        "mandate": record.authorization__contract_number if record.authorization else "",
        "agent_number": record.agent_number,
        "certificate": (
            f"{record.certificate__serial_number} / {record.certificate_fingerprint}"
            if record.certificate
            else record.certificate_fingerprint
        ),
        "outcome": SignatureRecord.Outcome(record.outcome).label
        + (f" ({record.reason_code})" if record.reason_code else ""),
        "receipt": urls["receipt"](event_id) if event_id else "",
    }


def _hit_urls() -> dict[str, Callable[[object], str]]:
    return {
        "record": reverse_each("officers:signatures_signaturerecord_change", sample=1),
        "receipt": reverse_each("officers:receipt", sample=uuid.UUID(int=0)),
    }


CSV_COLUMNS = (
    "declaration", "kind", "time", "signer", "organization", "on_behalf_of", "mandate", "agent_number",
    "certificate", "outcome", "receipt",
)  # fmt: skip


def _without(query, *names: str) -> str:
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    return kept.urlencode()


def who_signed(request):
    """Search signatures by declaration, tax code, certificate, agent, user and dates; every search
    that runs is an audit event (officers' reads of personal data are audited, DESIGN §5 rule 6)."""
    require_perm(request, "audit.search_signatures")
    form = SignatureSearchForm(request.GET or None)
    hits, page = [], None
    export = request.GET.get("export") == "csv"
    if request.GET and form.is_valid():
        criteria = form.criteria()
        found = selectors.signature_search(viewer=request.user, **criteria)
        if export:
            records = list(found[:SEARCH_LIMIT])
        else:
            page = UncountedPage(found, request.GET.get("page"), PAGE_SIZE)
            records = page.object_list
        events = selectors.signature_audit_events(records)
        urls = _hit_urls()
        hits = [_hit_row(record, events.get(record.pk), urls) for record in records]
        officer_view_record(
            request,
            target=("signatures.signaturerecord", ""),
            data={
                "search": {key: str(value) for key, value in criteria.items()},
                "results": len(hits),
                "page": page.number if page else None,
                "export": export,
            },
        )
        if export:
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="who-signed.csv"'
            writer = csv.writer(response)
            writer.writerow(CSV_COLUMNS)
            for hit in hits:
                writer.writerow(
                    [
                        request.build_absolute_uri(hit[c]) if c == "receipt" and hit[c] else hit[c]
                        for c in CSV_COLUMNS
                    ]
                )
            return response
    context = {
        **officer_site.each_context(request),
        "title": gettext("Who signed which declaration"),
        "form": form,
        "hits": hits,
        "hit_rows": who_signed_rows(hits),
        "searched": bool(request.GET) and form.is_valid(),
        "page": page,
        # The criteria without the page number, for the CSV link and the page links.
        "criteria_query": _without(request.GET, "page", "export"),
    }
    return TemplateResponse(request, "officers/who_signed.html", context, status=400 if form.errors else 200)


officer_site.register_page(
    "who-signed/",
    who_signed,
    name="who_signed",
    title=_("Who signed which declaration"),
    permission="audit.search_signatures",
)


# --- registry uploads -------------------------------------------------------------------------


def _upload_page(request, *, permission: str, form_class, title, run, done_url: str):
    """One upload form whose file goes to one service; its refusal codes become form errors."""
    from django.core.exceptions import ValidationError
    from django.shortcuts import redirect

    from core.errors import ApplicationError

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
        run=lambda actor, data: trust.trusted_issuer_add(
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
        run=lambda actor, data: trust.crl_import(data=data["crl"], actor=actor),
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


def declarations_panel() -> Panel:
    days = audit_selectors.dashboard_days(DASHBOARD_DAYS)
    rows = selectors.declarations_by_signer_side(since=days[0])
    labels = [day.isoformat() for day in days]
    names = {"own_staff": gettext("trader's own staff"), "broker": gettext("broker")}
    series = day_series(labels, [(day.isoformat(), names[side], count) for day, side, count in rows])
    return Panel(
        key="declarations",
        title=gettext("Declarations signed by traders' own staff and by brokers (last %(days)s days)")
        % {"days": DASHBOARD_DAYS},
        columns=[gettext("day"), gettext("signed by"), gettext("declarations")],
        rows=[[day.isoformat(), names[side], count] for day, side, count in rows],
        svg=stacked_bars(labels, series, title=gettext("Declarations per day")) if rows else "",
    )


officer_site.register_panel("declarations", declarations_panel, order=15)
