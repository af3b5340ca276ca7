"""Brokerage licences (DESIGN §4): only an officer (or the system) with a reason suspends,
reinstates or revokes one, and each change carries the broker's mandates and API keys with it."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Notification
from audit.models import AuditEvent
from brokers.services.api_keys import api_key_create
from brokers.services.licences import licence_reinstate, licence_revoke, licence_suspend
from brokers.services.mandates import authorization_accept, authorization_grant, authorization_revoke
from core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def window(start_in=0, days=180):
    start = timezone.localdate() + datetime.timedelta(days=start_in)
    return {"valid_from": start, "valid_until": start + datetime.timedelta(days=days)}


def grant(owner, broker, scopes=("import",), **changes):
    """The trader's offer of a mandate to the broker (pending until the broker accepts it)."""
    values = {
        "scopes": list(scopes), "representation": "direct", "contract_number": "HĐ-2026/01",
        "grantor_name": "Nguyễn Thị Lan", "grantor_title": "Giám đốc", **window(),
    } | changes  # fmt: skip
    return authorization_grant(actor=owner, broker=broker, **values)


def code_of(call) -> str:
    with pytest.raises(ApplicationError) as refusal:
        call()
    return refusal.value.code


def test_licence_suspension_cascades_and_reinstatement_restores_only_what_it_suspended(
    trader, trader_owner, broker, broker_owner, officer
):
    first = authorization_accept(mandate=grant(trader_owner, broker, **window(days=30)), actor=broker_owner)
    second = authorization_accept(mandate=grant(trader_owner, broker, scopes=("export",)), actor=broker_owner)
    key, _secret = api_key_create(actor=broker_owner, holder=broker_owner, name="ecus", scopes=["read"])
    licence = broker.licence
    licence_suspend(licence=licence, actor=officer, reason="three missed reports")
    for mandate in (first, second):
        mandate.refresh_from_db()
        assert mandate.status == "suspended"
    key.refresh_from_db()
    assert key.suspended_at is not None
    # While suspended, the trader revokes one mandate: it must stay revoked.
    authorization_revoke(mandate=second, actor=trader_owner, reason="changing broker")
    licence_reinstate(licence=licence, actor=officer, reason="reports filed")
    first.refresh_from_db()
    second.refresh_from_db()
    key.refresh_from_db()
    assert (first.status, second.status, key.suspended_at) == ("active", "revoked", None)
    licence.refresh_from_db()
    assert licence.status == "active"
    assert Notification.objects.filter(user=trader_owner, kind="licence_suspended").exists()


def test_licence_changes_need_an_officer_and_a_reason(broker, broker_owner, officer):
    assert code_of(lambda: licence_suspend(licence=broker.licence, actor=broker_owner, reason="x")) == (
        "not_allowed"
    )
    assert code_of(lambda: licence_suspend(licence=broker.licence, actor=officer, reason=" ")) == (
        "reason_required"
    )
    assert code_of(lambda: licence_reinstate(licence=broker.licence, actor=officer, reason="x")) == (
        "invalid_transition"
    )
    licence_revoke(licence=broker.licence, actor=officer, reason="fraud")
    assert code_of(lambda: licence_suspend(licence=broker.licence, actor=officer, reason="x")) == (
        "invalid_transition"
    )
    events = AuditEvent.objects.filter(action="licence.revoked")
    assert events.count() == 1 and events.get().data["reason"] == "fraud"


def test_licence_revocation_ends_every_live_mandate_and_key(trader_owner, broker, broker_owner, officer):
    active = authorization_accept(mandate=grant(trader_owner, broker), actor=broker_owner)
    pending = grant(trader_owner, broker, scopes=("export",))
    key, _secret = api_key_create(actor=broker_owner, holder=broker_owner, name="k", scopes=["read"])
    licence_revoke(licence=broker.licence, actor=officer, reason="fraud")
    for row in (active, pending, key):
        row.refresh_from_db()
    assert (active.status, pending.status, key.revoked) == ("revoked", "revoked", True)
    assert active.ended_by_party == "officer"


def test_the_licence_command(broker):
    out = io.StringIO()
    call_command("broker_licence", "suspend", broker.licence.number, "--reason", "audit", stdout=out)
    assert out.getvalue().strip() == f"{broker.licence.number}: suspended"
    with pytest.raises(CommandError, match="invalid_transition"):
        call_command("broker_licence", "suspend", broker.licence.number, "--reason", "again")
    with pytest.raises(CommandError, match="reason_required"):
        call_command("broker_licence", "reinstate", broker.licence.number, "--reason", " ")
