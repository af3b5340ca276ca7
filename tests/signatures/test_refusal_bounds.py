"""Refusals cannot fill the database or use up the server (issue "Hardening", findings 2 and 3):
a signature over 64 KiB is refused as signature_too_large and kept only by its digest and size;
every record keeps its signature's digest, in the audit event too; past
SIGNING_REFUSALS_PER_MINUTE refusals a key's filings get 429 too_many_refusals, unchecked and
unkept, while its accepted filings are never counted."""

from __future__ import annotations

import base64
import hashlib

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from bench import hostile_cms
from brokers.services.api_keys import api_key_create
from signatures.cms import MAX_CMS_BYTES
from signatures.models import SignatureRecord
from signatures.refusal_limit import REFUSALS
from tests.cast import filing_body
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def agent_api(world) -> Client:
    _key, secret = api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="ecus", scopes=["read", "declare"]
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", HTTP_ACCEPT_LANGUAGE="en")


def file(client, body):
    return client.post(reverse("api_declarations"), body, content_type="application/json")


def test_an_accepted_record_keeps_its_signature_and_its_digest_in_the_audit_event(world):
    record = world.sign(world.broker_agent, world.broker_key)
    assert record.outcome == "accepted"
    signature = bytes(record.signature)
    assert (record.signature_sha256, record.signature_size) == (
        hashlib.sha256(signature).hexdigest(),
        len(signature),
    )
    event = AuditEvent.objects.get(action="declaration.signed")
    assert event.data["signature_sha256"] == record.signature_sha256


def test_the_reviews_oversized_signature_is_refused_at_once_and_kept_by_its_digest(world):
    body = filing_body(world, world.broker_key, "1000000001")
    signed = base64.b64decode(body["signature"])
    certificate = world.broker_key.cert_der
    hostile = hostile_cms.many_certificates(signed, certificate, 1_000_000 // len(certificate))  # ~1 MB
    response = file(agent_api(world), body | {"signature": base64.b64encode(hostile).decode()})
    assert response.status_code == 413
    record = SignatureRecord.objects.get()
    assert response.json() == {
        "code": "signature_too_large",
        "detail": "The signature is larger than 64 KiB.",
        "fields": {"signature_record": record.pk},
    }
    assert (bytes(record.signature), record.signature_size) == (b"", len(hostile))
    assert record.signature_sha256 == hashlib.sha256(hostile).hexdigest()
    event = AuditEvent.objects.get(action="declaration.rejected")
    assert event.data["reason"] == "signature_too_large"
    assert event.data["signature_sha256"] == record.signature_sha256


def test_a_refused_signature_within_the_bound_is_kept_whole_as_evidence(world):
    body = filing_body(world, world.broker_key, "1000000002")
    signed = base64.b64decode(body["signature"])
    hostile = hostile_cms.tiny_elements_in_signer_infos(signed, MAX_CMS_BYTES)
    response = file(agent_api(world), body | {"signature": base64.b64encode(hostile).decode()})
    assert (response.status_code, response.json()["code"]) == (422, "signature_malformed")
    record = SignatureRecord.objects.get()
    assert bytes(record.signature) == hostile and record.signature_size == len(hostile) <= MAX_CMS_BYTES


def test_past_the_limit_a_keys_filings_are_refused_unchecked_for_the_rest_of_the_minute(world, settings):
    settings.SIGNING_REFUSALS_PER_MINUTE = 3
    api = agent_api(world)
    with time_machine.travel("2026-12-07 09:00:05 +07:00", tick=False):
        for number in range(3):  # three refusals: a digest that does not match the document
            body = filing_body(world, world.broker_key, f"20000000{number:02d}")
            response = file(api, body | {"document": base64.b64encode(b"other").decode()})
            assert response.json()["code"] == "signature_digest_mismatch"
        good = filing_body(world, world.broker_key, "2000000099")
        response = file(api, good)
        assert (response.status_code, response["Retry-After"]) == (429, "55")
        assert response.json() == {
            "code": "too_many_refusals",
            "detail": "Too many refused filings from this API key; wait before filing again. "
            "Expected available in 55 seconds.",
            "fields": {},
        }
        assert SignatureRecord.objects.count() == 3  # the refused call kept nothing
        other_key = agent_api(world)  # the limit is the key's own
        assert file(other_key, filing_body(world, world.broker_key, "2000000100")).status_code == 201
    with time_machine.travel("2026-12-07 09:02:00 +07:00", tick=False):
        assert file(api, good).status_code == 201


def test_accepted_filings_are_never_counted(world, settings):
    settings.SIGNING_REFUSALS_PER_MINUTE = 1
    api = agent_api(world)
    for number in range(4):
        assert file(api, filing_body(world, world.broker_key, f"30000000{number:02d}")).status_code == 201


def test_the_portal_shows_the_limit_next_to_the_form(world, settings, client):
    settings.SIGNING_REFUSALS_PER_MINUTE = 1
    REFUSALS.reset(f"user:{world.trader_signer.pk}")
    assert sign_in(client, world.trader_signer.username, HTTP_ACCEPT_LANGUAGE="en").status_code == 302
    body = filing_body(world, world.trader_key, "4000000001")

    def post(document: bytes):
        return client.post(
            reverse("declaration_sign"),
            {
                "number": body["number"],
                "kind": "import",
                "trader_tax_code": world.trader.tax_code,
                "document": SimpleUploadedFile("tk.xml", document),
                "signature": SimpleUploadedFile("tk.p7s", base64.b64decode(body["signature"])),
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert post(b"not the document").status_code == 422
    response = post(base64.b64decode(body["document"]))
    assert response.status_code == 429
    assert "Too many filings were refused in the last minute. Wait" in response.content.decode()
    assert SignatureRecord.objects.count() == 1
