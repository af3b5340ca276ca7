"""The audit app's models in the officer console (flags, cases, checkpoints)."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit import selectors
from audit.charts import day_series, horizontal_bars, stacked_bars
from audit.models import AuditCheckpoint
from audit.officers import DASHBOARD_DAYS, OfficerModelAdmin, Panel, officer_site, require_perm
from audit.selectors import AuditNotSealed, audit_event_for_reader, audit_receipt_build

# Flags and cases are registered by ``accounts.admin``: working them calls the case services, which
# live in accounts because closing a case tells the enterprise (and audit imports no higher app).


@admin.register(AuditCheckpoint, site=officer_site)
class AuditCheckpointAdmin(OfficerModelAdmin):
    """Each checkpoint's proof status (DESIGN §8): the log's signature and the witnesses'."""

    list_display = ("sequence", "tree_size", "issued_at", "key_id", "log_signature", "witnesses")
    exclude = ("root_hash", "chain_hash", "prev_checkpoint_hash", "signature")
    readonly_fields = ("root", "log_signature", "witnesses")

    @admin.display(description=_("root"))
    def root(self, obj) -> str:
        return bytes(obj.root_hash).hex()

    @admin.display(description=_("log signature"))
    def log_signature(self, obj) -> str:
        return (
            gettext("valid")
            if selectors.checkpoint_proof_status(obj)["log_signature"]
            else gettext("INVALID")
        )

    @admin.display(description=_("witness co-signatures"))
    def witnesses(self, obj) -> str:
        statuses = selectors.checkpoint_proof_status(obj)["witnesses"]
        return (
            ", ".join(f"{kid}: {gettext('valid') if ok else gettext('INVALID')}" for kid, ok in statuses)
            or "—"
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("witness_signatures")


def receipt(request, event_id):
    """An audit event's receipt (event, inclusion proof, signed checkpoint) for offline checking."""
    require_perm(request, "audit.search_signatures")
    event = audit_event_for_reader(user=request.user, event_id=event_id)
    if event is None:
        raise Http404
    try:
        body = audit_receipt_build(event=event)
    except AuditNotSealed:
        return HttpResponse(
            gettext("The receipt is not ready yet: the event is not sealed. Try again in a minute."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = JsonResponse(body, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="receipt-{event.event_id}.json"'
    return response


officer_site.register_page("receipts/<uuid:event_id>/", receipt, name="receipt")


# --- dashboard panels ------------------------------------------------------------------------------


def flags_panel() -> Panel:
    days = selectors.dashboard_days(DASHBOARD_DAYS)
    rows = selectors.flags_per_day(since=days[0])
    labels = [day.isoformat() for day in days]
    by_severity = day_series(
        labels, [(day.isoformat(), severity, count) for day, _k, severity, count in rows]
    )
    ordered = {name: by_severity[name] for name in ("high", "medium", "low") if name in by_severity}
    return Panel(
        key="flags",
        title=gettext("Flags raised per day, by kind and severity (last %(days)s days)")
        % {"days": DASHBOARD_DAYS},
        columns=[gettext("day"), gettext("kind"), gettext("severity"), gettext("flags")],
        rows=[[day.isoformat(), kind, severity, count] for day, kind, severity, count in rows],
        svg=stacked_bars(labels, ordered, title=gettext("Flags per day by severity")) if rows else "",
    )


def open_flags_panel() -> Panel:
    rows = selectors.flags_open_by_organization()
    return Panel(
        key="open-flags",
        title=gettext("Enterprises and brokers with the most open flags"),
        columns=[
            gettext("enterprise"),
            gettext("tax code"),
            gettext("kind"),
            gettext("open flags"),
            gettext("high severity"),
        ],
        rows=[
            [
                row["organization__name"],
                row["organization__tax_code"],
                row["organization__kind"],
                row["open"],
                row["high"],
            ]
            for row in rows
        ],
        svg=horizontal_bars(
            [(row["organization__name"], row["open"]) for row in rows], title=gettext("Open flags")
        )
        if rows
        else "",
    )


def audit_panel() -> Panel:
    state = selectors.audit_trail_state()
    checkpoint, verification = state["checkpoint"], state["verification"]
    none = gettext("none yet")
    last_checkpoint = none
    if checkpoint:
        last_checkpoint = (
            f"#{checkpoint.sequence}: {checkpoint.tree_size} events, {checkpoint.issued_at:%Y-%m-%d %H:%M}"
        )
    verified_at = result = none
    if verification:
        verified_at = f"{verification.occurred_at:%Y-%m-%d %H:%M}"
        result = (
            gettext("OK")
            if verification.data.get("ok")
            else gettext("MISMATCH at %(where)s") % {"where": verification.data.get("first_problem")}
        )
    witnessed = f"{state['witnessed_checkpoints']} / {state['checkpoints']}"
    rows = [
        [gettext("last checkpoint"), last_checkpoint],
        [gettext("witness co-signatures on it"), ", ".join(state["checkpoint_witnesses"]) or none],
        [gettext("checkpoints co-signed by a witness"), witnessed],
        [gettext("events waiting to be sealed"), state["unsealed"]],
        [gettext("last full verification"), verified_at],
        [gettext("its result"), result],
    ]
    return Panel(
        key="audit", title=gettext("The audit trail"), columns=[gettext("item"), gettext("state")], rows=rows
    )


officer_site.register_panel("flags", flags_panel, order=20)
officer_site.register_panel("open-flags", open_flags_panel, order=30)
officer_site.register_panel("audit", audit_panel, order=90)
