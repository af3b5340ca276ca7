"""The officers' "who signed which declaration" search (``/officers/who-signed/``): by declaration,
tax code, certificate, agent, user and dates, a page of hits or a CSV; every search that runs is an
audit event (officers' reads of personal data are audited, DESIGN §5 rule 6)."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from core.pagination import UncountedPage
from core.text import full_name
from officers.labels import refusal_label
from officers.site import officer_site, officer_view_record, require_perm
from signatures import selectors
from signatures.forms import SignatureSearchForm
from signatures.models import Declaration, SignatureRecord

SEARCH_LIMIT = 500  # rows in a CSV export
# Rows on a page, newest first, with "older" and "newer" links: a page of 100 took a worker
# some 25 ms to build (the scale benchmark), and a person reads the newest first.
PAGE_SIZE = 50

CSV_COLUMNS = (
    "declaration", "kind", "time", "signer", "organization", "on_behalf_of", "mandate", "agent_number",
    "certificate", "outcome", "receipt",
)  # fmt: skip


def _hit_row(record, event_id: str | None) -> dict:
    """One search hit (a row of ``selectors.signature_search``) as the page and the CSV show it."""
    signer_name = full_name(family=record.signer__last_name, given=record.signer__first_name)
    return {
        "record": record,
        "record_url": reverse("officers:signatures_signaturerecord_change", args=[record.pk]),
        "declaration": record.declaration_number,
        "kind": Declaration.Kind(record.declaration_kind).label
        if record.declaration_kind in Declaration.Kind.values
        else record.declaration_kind,
        "time": record.created_at,
        "signer": f"{signer_name} ({record.signer__username})",
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
        + (f": {refusal_label(record.reason_code)}" if record.reason_code else ""),
        "receipt": reverse("officers:receipt", args=[event_id]) if event_id else "",
    }


def _without(query, *names: str) -> str:
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    return kept.urlencode()


def _csv(request, hits: list[dict]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="who-signed.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for hit in hits:
        writer.writerow(
            [request.build_absolute_uri(hit[c]) if c == "receipt" and hit[c] else hit[c] for c in CSV_COLUMNS]
        )
    return response


def who_signed(request):
    """Search signatures by declaration, tax code, certificate, agent, user and dates; every search
    that runs is an audit event."""
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
        hits = [_hit_row(record, events.get(record.pk)) for record in records]
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
            return _csv(request, hits)
    context = {
        **officer_site.each_context(request),
        "title": gettext("Who signed which declaration"),
        "form": form,
        "hits": hits,
        "searched": bool(request.GET) and form.is_valid(),
        "page": page,
        # The criteria without the page number, for the CSV link and the page links.
        "criteria_query": _without(request.GET, "page", "export"),
    }
    return TemplateResponse(request, "officers/who_signed.html", context, status=400 if form.errors else 200)
