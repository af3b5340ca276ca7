"""The audit app's models in the officer console (flags, cases, checkpoints)."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext

from audit.models import AuditCheckpoint
from audit.officers import OfficerModelAdmin, officer_site, require_perm
from audit.selectors import AuditNotSealed, audit_event_for_reader, audit_receipt_build

# Flags and cases are registered by ``accounts.admin``: working them calls the case services, which
# live in accounts because closing a case tells the enterprise (and audit imports no higher app).


@admin.register(AuditCheckpoint, site=officer_site)
class AuditCheckpointAdmin(OfficerModelAdmin):
    list_display = ("sequence", "tree_size", "issued_at", "key_id", "witnesses")
    exclude = ("root_hash", "chain_hash", "prev_checkpoint_hash", "signature")
    readonly_fields = ("root", "witnesses")

    @admin.display(description="root")
    def root(self, obj) -> str:
        return bytes(obj.root_hash).hex()

    @admin.display(description="witness co-signatures")
    def witnesses(self, obj) -> str:
        return ", ".join(w.key_id for w in obj.witness_signatures.all()) or "—"

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
