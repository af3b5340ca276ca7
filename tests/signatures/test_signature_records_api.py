"""A broker reads its own attempts through the API, accepted and refused, each with its code and a
receipt (issue "Onboarding and operability": a refusal's signature_record id led nowhere)."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse

from audit.keys import signing_key
from audit.services.sealing import audit_seal
from audit.verify_receipt import verify_receipt
from brokers.services.api_keys import api_key_create
from tests.cast import filing_body

pytestmark = pytest.mark.django_db


def api_for(world, holder) -> Client:
    manager = world.broker_owner if holder.organization == world.broker else world.trader_owner
    _key, secret = api_key_create(actor=manager, holder=holder, name="tool", scopes=["read", "declare"])
    return Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", HTTP_ACCEPT_LANGUAGE="en")


def test_a_refused_filing_can_be_read_back_with_its_code_and_receipt(world, settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 1
    agent = api_for(world, world.broker_agent)
    body = filing_body(world, world.broker_key, "5000000001") | {
        "document": base64.b64encode(b"other").decode()
    }
    refused = agent.post(reverse("api_declarations"), body, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["code"] == "signature_digest_mismatch"
    record_id = refused.json()["fields"]["signature_record"]
    detail = agent.get(reverse("api_signature_record", args=[record_id]))
    assert detail.status_code == 200
    record = detail.json()
    assert (record["id"], record["outcome"], record["reason_code"]) == (
        record_id,
        "rejected",
        "signature_digest_mismatch",
    )
    assert record["declaration_number"] == "5000000001" and record["trader_tax_code"] == world.trader.tax_code
    assert record["receipt"] == reverse("api_signature_record_receipt", args=[record_id])
    audit_seal()
    receipt = agent.get(record["receipt"])
    assert receipt.status_code == 200
    result = verify_receipt(receipt.json(), [signing_key().public_key()])
    assert result.ok
    canonical = json.loads(base64.b64decode(receipt.json()["event"]["canonical"]))
    assert (canonical["action"], canonical["target"]["id"]) == ("declaration.rejected", str(record_id))


def test_the_list_shows_accepted_and_refused_newest_first_and_filters_by_outcome(world):
    agent = api_for(world, world.broker_agent)
    accepted = agent.post(reverse("api_declarations"), filing_body(world, world.broker_key, "5000000002"),
                          content_type="application/json")  # fmt: skip
    assert accepted.status_code == 201
    wrong = filing_body(world, world.broker_key, "5000000003") | {"document": base64.b64encode(b"x").decode()}
    assert agent.post(reverse("api_declarations"), wrong, content_type="application/json").status_code == 422
    listed = agent.get(reverse("api_signature_records")).json()["results"]
    assert [(r["declaration_number"], r["outcome"]) for r in listed] == [
        ("5000000003", "rejected"), ("5000000002", "accepted"),
    ]  # fmt: skip
    refused_only = agent.get(reverse("api_signature_records"), {"outcome": "rejected"}).json()["results"]
    assert [r["declaration_number"] for r in refused_only] == ["5000000003"]
    # The trader sees the attempts made in its name, refused ones included.
    trader = api_for(world, world.trader_owner)
    seen = trader.get(reverse("api_signature_records")).json()["results"]
    assert [r["declaration_number"] for r in seen] == ["5000000003", "5000000002"]


@pytest.mark.parametrize("outcome", ["", "refused", "ACCEPTED"])
def test_an_outcome_outside_the_list_is_refused(world, outcome):
    response = api_for(world, world.broker_agent).get(reverse("api_signature_records"), {"outcome": outcome})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["outcome"]
