"""A trader's receipt does not tell it where another organisation's staff (or an officer) worked
from: format-2 events commit to the IP address, user agent and request id through a salted hash,
and only officers and the actor's own organisation get the opening (security review, finding 11)."""

from __future__ import annotations

import base64
import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.canonical import SALT_SIZE
from audit.keys import signing_key
from audit.models import Action, AuditEvent
from audit.services.sealing import audit_seal
from audit.verification import audit_verify
from audit.verify_receipt import verify_receipt
from brokers.services.api_keys import api_key_create
from core.context import RequestContext, bound_context
from tests.audit.conftest import bypassing_triggers
from tests.cast import filing_body
from tests.officers.helpers import console_sign_in, officer_in

pytestmark = pytest.mark.django_db

BROKER_IP = "198.51.100.23"
BROKER_AGENT = "ECUS5-VNACCS/5.0 (dai-ly-hai-quan)"
BROKER_REQUEST = "broker-request-0001"


@pytest.fixture(autouse=True)
def _checkpoint_every_event(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 1


def _api(world, holder, scopes) -> Client:
    actor = world.trader_owner if holder.organization_id == world.trader.pk else world.broker_owner
    _key, secret = api_key_create(actor=actor, holder=holder, name="tool", scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def filed(world):
    """A declaration the broker's agent filed in the trader's name, from the broker's office."""
    agent = _api(world, world.broker_agent, ["read", "declare"])
    response = agent.post(
        reverse("api_declarations"),
        filing_body(world, world.broker_key, "7001"),
        content_type="application/json",
        REMOTE_ADDR=BROKER_IP,
        HTTP_USER_AGENT=BROKER_AGENT,
        HTTP_X_REQUEST_ID=BROKER_REQUEST,
    )
    assert response.status_code == 201, response.json()
    audit_seal()
    return response.json()


def _checks(receipt: dict) -> dict[str, str]:
    result = verify_receipt(receipt, [signing_key().public_key()])
    assert result.ok, result.problems
    return {check.name: check.status for check in result.checks}


def _leaks(text: str) -> list[str]:
    return [value for value in (BROKER_IP, BROKER_AGENT, BROKER_REQUEST, "ECUS5") if value in text]


def test_the_traders_receipt_of_its_brokers_filing_hides_where_the_broker_worked_from(world, filed):
    trader = _api(world, world.trader_owner, ["read"])
    response = trader.get(reverse("api_declaration_receipt", args=[filed["id"]]))
    assert response.status_code == 200
    receipt = response.json()
    assert "opening" not in receipt["event"]
    canonical = base64.b64decode(receipt["event"]["canonical"]).decode()
    assert _leaks(response.content.decode()) == [] and _leaks(canonical) == []
    assert json.loads(canonical)["v"] == 2 and set(json.loads(canonical)["context"]) == {
        "channel",
        "commitment",
    }
    assert _checks(receipt)["network"] == "skip"
    # The same event through the audit trail's own endpoint.
    event = AuditEvent.objects.get(action=Action.DECLARATION_SIGNED)
    again = trader.get(reverse("audit-event-receipt", args=[event.event_id]))
    assert again.status_code == 200 and "opening" not in again.json()["event"]
    assert _leaks(again.content.decode()) == []


def test_the_broker_and_officers_get_the_opening_and_it_matches_the_commitment(world, filed):
    broker = _api(world, world.broker_agent, ["read"])
    receipt = broker.get(reverse("api_declaration_receipt", args=[filed["id"]])).json()
    assert receipt["event"]["opening"] | {"salt": None} == {
        "salt": None, "ip": BROKER_IP, "user_agent": BROKER_AGENT, "request_id": BROKER_REQUEST
    }  # fmt: skip
    assert len(base64.b64decode(receipt["event"]["opening"]["salt"])) == SALT_SIZE
    assert _checks(receipt)["network"] == "ok"
    record = broker.get(reverse("api_signature_records")).json()["results"][0]
    assert broker.get(record["receipt"]).json()["event"]["opening"]["ip"] == BROKER_IP

    event = AuditEvent.objects.get(action=Action.DECLARATION_SIGNED)
    officer = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert console_sign_in(officer, officer_in("viewer").username).status_code == 302
    response = officer.get(reverse("officers:receipt", args=[event.event_id]))
    assert response.status_code == 200
    assert json.loads(response.content)["event"]["opening"]["ip"] == BROKER_IP


def test_an_opening_that_does_not_match_the_commitment_is_invalid(world, filed):
    broker = _api(world, world.broker_agent, ["read"])
    receipt = broker.get(reverse("api_declaration_receipt", args=[filed["id"]])).json()
    for field, forged in [("ip", "203.0.113.9"), ("user_agent", "other"), ("request_id", "x" * 19)]:
        tampered = json.loads(json.dumps(receipt))
        tampered["event"]["opening"][field] = forged
        result = verify_receipt(tampered, [signing_key().public_key()])
        assert not result.ok
        assert result.problems == ["the network details given do not match the event's commitment"]
    other_salt = json.loads(json.dumps(receipt))
    other_salt["event"]["opening"]["salt"] = base64.b64encode(bytes(SALT_SIZE)).decode()
    assert not verify_receipt(other_salt, [signing_key().public_key()]).ok
    malformed = json.loads(json.dumps(receipt))
    malformed["event"]["opening"]["ip"] = 7
    result = verify_receipt(malformed, [signing_key().public_key()])
    assert result.problems == ["receipt is malformed: event.opening.ip is neither a string nor null"]


def test_the_traders_own_staff_see_their_own_network_in_their_receipts(world):
    context = RequestContext(
        request_id="trader-request-01", channel="portal", ip="203.0.113.40", user_agent="Cốc Cốc"
    )
    with bound_context(context):
        record = world.sign(world.trader_signer, world.trader_key)
    audit_seal()
    trader = _api(world, world.trader_owner, ["read"])
    receipt = trader.get(reverse("api_declaration_receipt", args=[record.declaration.pk])).json()
    assert receipt["event"]["opening"]["ip"] == "203.0.113.40"
    assert receipt["event"]["opening"]["user_agent"] == "Cốc Cốc"
    assert _checks(receipt)["network"] == "ok"
    # The broker, which had no part in it, cannot even read the declaration.
    broker = _api(world, world.broker_agent, ["read"])
    assert broker.get(reverse("api_declaration_receipt", args=[record.declaration.pk])).status_code == 404


def test_an_officers_action_on_a_trader_keeps_the_officers_network_from_the_trader(world):
    context = RequestContext(
        request_id="officer-request-1", channel="officers", ip="10.20.30.40", user_agent="Firefox"
    )
    from audit.services.events import audit_event_record

    with bound_context(context):
        event = audit_event_record(
            action=Action.CERTIFICATE_SUSPENDED, actor=world.officer, organization=world.trader,
            target=world.trader_certificate, data={"reason": "court order"},
        )  # fmt: skip
    audit_seal()
    receipt = _api(world, world.trader_owner, ["read"]).get(
        reverse("audit-event-receipt", args=[event.event_id])
    )
    assert receipt.status_code == 200
    assert "10.20.30.40" not in receipt.content.decode() and "opening" not in receipt.json()["event"]


def test_events_recorded_before_format_2_keep_their_bytes_and_still_verify(world):
    """An upgraded installation's older events have no salt: their bytes, and so their hashes and
    receipts, stay as they were (they carry the network details in the clear)."""
    older = AuditEvent.objects.create(
        occurred_at=timezone.now(), action=Action.ORGANIZATION_CREATED, organization=world.trader,
        data={"n": 1}, channel="portal", ip="192.0.2.1", user_agent="Old", request_id="old-request",
        network_salt=None,
    )  # fmt: skip
    with bound_context(
        RequestContext(request_id="new-request", channel="portal", ip="192.0.2.2", user_agent="New")
    ):
        from audit.services.events import audit_event_record

        newer = audit_event_record(
            action=Action.ORGANIZATION_CREATED, organization=world.trader, data={"n": 2}
        )
    audit_seal()
    assert audit_verify().ok
    trader = _api(world, world.trader_owner, ["read"])
    old_receipt = trader.get(reverse("audit-event-receipt", args=[older.event_id])).json()
    canonical = json.loads(base64.b64decode(old_receipt["event"]["canonical"]))
    assert canonical["v"] == 1 and canonical["context"]["ip"] == "192.0.2.1"
    assert "opening" not in old_receipt["event"] and "network" not in _checks(old_receipt)
    new_receipt = trader.get(reverse("audit-event-receipt", args=[newer.event_id])).json()
    assert json.loads(base64.b64decode(new_receipt["event"]["canonical"]))["v"] == 2
    # An opening attached to a format-1 event proves nothing and is refused.
    old_receipt["event"]["opening"] = {"salt": base64.b64encode(bytes(16)).decode(), "ip": "192.0.2.1",
                                       "user_agent": "Old", "request_id": "old-request"}  # fmt: skip
    result = verify_receipt(old_receipt, [signing_key().public_key()])
    assert result.problems == ["the receipt opens network details but the event commits to none"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ip", "192.0.2.99"),
        ("user_agent", "forged"),
        ("request_id", "forged-id"),
        ("network_salt", bytes(16)),
    ],
)
def test_changing_a_hidden_network_detail_is_caught_by_verification(world, column, value):
    from tests.audit.helpers import record_many

    record_many(3, organization=world.trader)
    audit_seal()
    assert audit_verify().ok
    with bypassing_triggers() as cursor:
        cursor.execute(f"UPDATE audit_auditevent SET {column} = %s WHERE position = 1", [value])
    result = audit_verify()
    assert not result.ok
    assert str(result.first_problem).startswith("event position 1 ")


def test_the_operator_prints_a_receipt_with_or_without_the_network(world, filed):
    event = AuditEvent.objects.get(action=Action.DECLARATION_SIGNED)
    full, withheld = io.StringIO(), io.StringIO()
    call_command("audit_receipt", str(event.event_id), stdout=full)
    call_command("audit_receipt", str(event.event_id), "--withhold-network", stdout=withheld)
    assert json.loads(full.getvalue())["event"]["opening"]["ip"] == BROKER_IP
    assert _leaks(withheld.getvalue()) == []
    assert _checks(json.loads(withheld.getvalue()))["network"] == "skip"


def test_every_new_event_gets_its_own_salt(world):
    from tests.audit.helpers import record_many

    events = record_many(5, organization=world.trader)
    salts = [
        bytes(salt)
        for salt in AuditEvent.objects.filter(pk__in=[e.pk for e in events]).values_list(
            "network_salt", flat=True
        )
    ]
    assert len(set(salts)) == 5 and {len(salt) for salt in salts} == {SALT_SIZE}
    assert uuid.UUID(str(events[0].event_id))  # the events were stored as recorded
