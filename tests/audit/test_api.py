from __future__ import annotations

import json
import subprocess
import sys

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.urls import reverse

from audit.keys import signing_key, signing_key_id
from audit.models import Action, AuditCheckpoint
from audit.services.events import audit_event_record
from audit.services.sealing import audit_seal
from audit.verify_receipt import verify_receipt
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def covered_event(trader_owner, settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 1
    event = audit_event_record(
        action=Action.USER_ROLE_CHANGED,
        actor=trader_owner,
        organization=trader_owner.organization,
        target=trader_owner,
    )
    audit_seal()
    event.refresh_from_db()
    return event


def receipt_url(event) -> str:
    return reverse("audit-event-receipt", kwargs={"event_id": event.event_id})


def test_the_public_key_is_published_without_sign_in(client):
    response = client.get(reverse("audit-public-key"))
    assert response.status_code == 200
    body = response.json()
    assert body["algorithm"] == "Ed25519"
    assert body["current_key_id"] == signing_key_id()
    (key,) = body["keys"]
    assert key["current"] is True
    loaded = serialization.load_pem_public_key(key["public_key_pem"].encode())
    assert loaded.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == signing_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = client.get(reverse("audit-public-key-pem"))
    assert pem.status_code == 200
    assert pem.content.decode() == key["public_key_pem"]


def test_a_member_gets_the_receipt_of_their_organisations_event_and_it_verifies(
    client, covered_event, trader_owner
):
    client.force_login(trader_owner)
    response = client.get(receipt_url(covered_event))
    assert response.status_code == 200
    receipt = response.json()
    assert receipt["event"]["event_id"] == str(covered_event.event_id)
    assert verify_receipt(receipt, [signing_key().public_key()]).ok


def test_the_receipt_verifies_with_the_standalone_script(client, covered_event, trader_owner, tmp_path):
    client.force_login(trader_owner)
    (tmp_path / "receipt.json").write_text(json.dumps(client.get(receipt_url(covered_event)).json()))
    (tmp_path / "key.pem").write_bytes(client.get(reverse("audit-public-key-pem")).content)
    result = subprocess.run(
        [sys.executable, "-m", "audit.verify_receipt", "receipt.json", "--public-key", "key.pem"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "receipt OK" in result.stdout


def test_another_organisation_cannot_see_that_the_event_exists(client, covered_event, outsider):
    client.force_login(outsider)
    response = client.get(receipt_url(covered_event))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No such audit event.", "fields": {}}


def test_an_officer_gets_any_receipt(client, covered_event, officer):
    client.force_login(officer)
    assert client.get(receipt_url(covered_event)).status_code == 200


def test_receipts_need_a_sign_in(client, covered_event):
    response = client.get(receipt_url(covered_event))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_unsealed_event_has_no_receipt_yet(client, trader_owner):
    event = audit_event_record(
        action=Action.SIGNED_OUT, actor=trader_owner, organization=trader_owner.organization
    )
    client.force_login(trader_owner)
    response = client.get(receipt_url(event))
    assert response.status_code == 409
    assert response.json()["code"] == "receipt_not_ready"


def test_an_unknown_event_id_is_not_found(client, trader_owner):
    client.force_login(trader_owner)
    response = client.get("/api/v1/audit/events/00000000-0000-0000-0000-000000000000/receipt")
    assert response.status_code == 404
    assert client.get("/api/v1/audit/events/not-a-uuid/receipt").status_code == 404


def test_without_workers_asking_for_a_receipt_closes_the_due_checkpoint(client, trader_owner, settings):
    """The embedded default runs no beat: nothing else would seal a quiet system's last events
    (issue "Onboarding and operability": receipts answered 409 for over 100 s)."""
    settings.CELERY_TASK_ALWAYS_EAGER, settings.AUDIT_CHECKPOINT_SECONDS = True, 5
    client.force_login(trader_owner)
    with time_machine.travel("2026-12-07 09:00:00 +07:00", tick=False):
        event = audit_event_record(
            action=Action.SIGNED_OUT, actor=trader_owner, organization=trader_owner.organization
        )
        early = client.get(receipt_url(event), HTTP_ACCEPT_LANGUAGE="en")
    assert early.status_code == 409
    assert early.json()["detail"].endswith("Try again in 5 seconds at most.")
    with time_machine.travel("2026-12-07 09:00:06 +07:00", tick=False):
        ready = client.get(receipt_url(event))
    assert ready.status_code == 200
    assert ready.json()["event"]["event_id"] == str(event.event_id)
    assert AuditCheckpoint.objects.count() == 1


def test_with_workers_a_receipt_request_leaves_sealing_to_them(client, trader_owner, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client.force_login(trader_owner)
    with time_machine.travel("2026-12-07 09:00:00 +07:00", tick=False):
        event = audit_event_record(
            action=Action.SIGNED_OUT, actor=trader_owner, organization=trader_owner.organization
        )
    with time_machine.travel("2026-12-07 09:05:00 +07:00", tick=False):
        assert client.get(receipt_url(event)).status_code == 409
    event.refresh_from_db()
    assert event.position is None and not AuditCheckpoint.objects.exists()
