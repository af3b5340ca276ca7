"""Declaration signing (DESIGN §5 rules 1, 2, 3, 7, 9): real signatures made by openssl and by
cryptography, each rule refusing with its own code, refusals kept as evidence."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, Organization
from audit.keys import signing_key
from audit.models import Action, AuditEvent, Flag
from audit.services.sealing import audit_seal
from audit.verify_receipt import verify_receipt
from brokers.models import Authorization
from brokers.services.agents import agent_leave
from brokers.services.api_keys import api_key_create
from brokers.services.licences import licence_suspend
from signatures.models import Declaration, SignatureRecord
from signatures.services.lifecycle import certificate_suspend
from signatures.services.signing import MAX_DOCUMENT_BYTES, declaration_sign
from signatures.services.trust import crl_import
from tests.cast import DOCUMENT, filing_body
from tests.signatures.helpers import crl_bytes
from tests.signatures.pki_factory import make_crl, openssl_cms_sign

pytestmark = pytest.mark.django_db


def test_the_traders_own_signer_signs(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = world.sign(world.trader_signer, world.trader_key)
    assert (record.outcome, record.reason_code, record.agent_number) == ("accepted", "", "")
    assert record.declaration.trader == world.trader and record.certificate == world.trader_certificate
    event = AuditEvent.objects.get(action="declaration.signed")
    assert event.data["number"] == record.declaration_number and event.data["outcome"] == "accepted"
    assert Notification.objects.filter(user=world.trader_owner, kind="declaration_signed").count() == 1


@pytest.mark.parametrize("options", [{}, {"noattr": True}, {"md": "sha384"}])
def test_a_broker_agent_signs_for_the_trader_with_its_own_certificate(world, options):
    record = world.sign(world.broker_agent, world.broker_key, **options)
    assert record.outcome == "accepted", record.reason_code
    assert (
        record.authorization == world.mandate
        and record.agent_number == world.broker_agent.agent_profile.agent_number
    )
    assert record.representation == "direct"


def test_a_cryptography_pkcs7_signature_is_accepted(world):
    document = b"<ToKhai so='1099'/>"
    signature = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(document)
        .add_signer(world.trader_key.certificate, world.trader_key.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )
    record = declaration_sign(
        actor=world.trader_signer, number="1099", kind="export", trader_tax_code=world.trader.tax_code,
        representation="", document=document, signature=signature,
    )  # fmt: skip
    assert record.outcome == "accepted", record.reason_code


def test_the_traders_certificate_in_a_brokers_hands_is_refused_and_flagged(world):
    record = world.sign(world.broker_agent, world.trader_key)
    assert (record.outcome, record.reason_code) == ("rejected", "certificate_foreign_use")
    flag = Flag.objects.get(kind="certificate_foreign_use")
    assert (flag.severity, flag.organization, flag.user) == ("high", world.trader, world.broker_agent)
    assert not Declaration.objects.exists()
    event = AuditEvent.objects.get(action="declaration.rejected")
    assert event.data["reason"] == "certificate_foreign_use"


def _expect(record, code):
    assert (record.outcome, record.reason_code) == ("rejected", code)
    assert SignatureRecord.objects.filter(pk=record.pk, outcome="rejected").exists()  # kept as evidence
    assert not Declaration.objects.filter(number=record.declaration_number).exists()
    # The refusal is in the audit trail: one event for this attempt, by the person who presented
    # the signature, in the name of the trader the declaration was for.
    event = AuditEvent.objects.get(
        action=Action.DECLARATION_REJECTED, target_type="signatures.signaturerecord", target_id=str(record.pk)
    )
    assert (event.data["outcome"], event.data["reason"]) == ("rejected", code)
    assert event.actor_id == record.signer_id
    assert event.organization == Organization.objects.get(tax_code=record.trader_tax_code)


def test_a_tampered_document(world):
    _expect(world.sign(world.trader_signer, world.trader_key, tamper=True), "signature_digest_mismatch")
    _expect(world.sign(world.trader_signer, world.trader_key, tamper=True, noattr=True), "signature_invalid")


def test_an_unbound_certificate(world):
    stranger = world.pki.signer(tax_code=world.trader.tax_code, slot=62)
    _expect(world.sign(world.trader_signer, stranger), "certificate_not_bound")


def test_mandate_problems(world):
    _expect(world.sign(world.broker_agent, world.broker_key, kind="export"), "authorization_scope")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Authorization.objects.filter(pk=world.mandate.pk).update(
        valid_from=yesterday - datetime.timedelta(days=30), valid_until=yesterday
    )
    _expect(world.sign(world.broker_agent, world.broker_key), "no_active_authorization")
    Authorization.objects.filter(pk=world.mandate.pk).update(
        valid_from=timezone.localdate(), valid_until=timezone.localdate(), status="revoked"
    )
    _expect(world.sign(world.broker_agent, world.broker_key), "no_active_authorization")


def test_a_suspended_licence(world):
    licence_suspend(licence=world.broker.licence, actor=world.officer, reason="reports")
    _expect(world.sign(world.broker_agent, world.broker_key), "broker_licence_inactive")


def test_a_departed_agent(world):
    agent_leave(
        agent=world.broker_agent.agent_profile, left_on=timezone.localdate(), actor=world.broker_owner
    )
    _expect(world.sign(world.broker_agent, world.broker_key), "agent_not_current")


def test_a_signer_who_is_not_a_custodian(world):
    from tests.factories import UserFactory

    other_signer = UserFactory(organization=world.trader, role="signer")
    _expect(world.sign(other_signer, world.trader_key), "signer_not_custodian")


def test_owners_and_administrators_do_not_sign(world):
    _expect(world.sign(world.trader_owner, world.trader_key), "signer_role_not_allowed")


def test_a_certificate_revoked_after_binding(world):
    crl = make_crl(world.pki.intermediate, revoked=[world.trader_key.certificate])
    crl_import(data=crl_bytes(crl), actor=world.officer)
    _expect(world.sign(world.trader_signer, world.trader_key), "certificate_revoked")


def test_a_suspended_certificate(world):
    certificate_suspend(certificate=world.trader_certificate, actor=world.trader_owner, reason="lost")
    _expect(world.sign(world.trader_signer, world.trader_key), "certificate_suspended")


def test_an_expired_certificate(world):
    later = world.trader_key.certificate.not_valid_after_utc + datetime.timedelta(days=1)
    document = b"<ToKhai/>"
    signature = openssl_cms_sign(document, world.trader_key)
    with time_machine.travel(later):
        record = declaration_sign(
            actor=world.trader_signer, number="2001", kind="import", trader_tax_code=world.trader.tax_code,
            representation="", document=document, signature=signature,
        )  # fmt: skip
    # openssl stamps today's signing time, inside the certificate's validity; the certificate is
    # nevertheless past its end on the day it is presented.
    _expect(record, "certificate_expired")


def test_a_duplicate_number_is_409_and_kept(world):
    first = world.sign(world.trader_signer, world.trader_key, number="3001")
    second = world.sign(world.trader_signer, world.trader_key, number="3001")
    assert first.outcome == "accepted"
    assert (second.outcome, second.reason_code, second.refusal.status_code) == (
        "rejected",
        "duplicate_declaration",
        409,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_signers_racing_for_one_number_get_one_declaration_and_one_kept_refusal(world):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    barrier = threading.Barrier(2)
    records = []

    def sign(actor, identity):
        try:
            barrier.wait()
            records.append(world.sign(actor, identity, number="3001"))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=sign, args=(world.trader_signer, world.trader_key)),
        threading.Thread(target=sign, args=(world.broker_agent, world.broker_key)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((r.outcome, r.reason_code) for r in records) == [
        ("accepted", ""),
        ("rejected", "duplicate_declaration"),
    ]
    assert Declaration.objects.filter(number="3001").count() == 1
    # The loser's attempt is evidence too: its record and audit event were written after the rollback.
    assert SignatureRecord.objects.filter(declaration_number="3001").count() == 2
    rejected = AuditEvent.objects.get(action="declaration.rejected")
    assert rejected.data["reason"] == "duplicate_declaration"


def test_bad_input(world):
    record = declaration_sign(
        actor=world.trader_signer, number="1", kind="import", trader_tax_code="123", representation="",
        document=b"x", signature=b"y",
    )  # fmt: skip
    assert record.reason_code == "invalid_tax_code"
    record = declaration_sign(
        actor=world.trader_signer, number="1", kind="import", trader_tax_code=world.trader.tax_code,
        representation="", document=b"x", signature=b"garbage",
    )  # fmt: skip
    assert record.reason_code == "signature_malformed"


def test_the_first_rule_that_fails_decides_the_refusal(world):
    # A blank number with an invalid tax code and a garbage signature: the input is checked first.
    record = declaration_sign(
        actor=world.trader_signer, number=" ", kind="import", trader_tax_code="123", representation="",
        document=b"x", signature=b"y",
    )  # fmt: skip
    assert record.reason_code == "invalid_input"
    # An unknown trader is found out before the signature is looked at.
    record = declaration_sign(
        actor=world.trader_signer, number="1", kind="import", trader_tax_code="0100109106",
        representation="", document=b"x", signature=b"garbage",
    )  # fmt: skip
    assert record.reason_code == "trader_not_found"
    # An owner presenting another organisation's certificate: the certificate before the signer.
    _expect(world.sign(world.trader_owner, world.broker_key), "certificate_foreign_use")
    # An owner (who may not sign) of a verified trader with its own certificate, on a kind the
    # broker's mandate does not cover: the signer's role before anything about mandates.
    _expect(world.sign(world.trader_owner, world.trader_key, kind="export"), "signer_role_not_allowed")


def test_the_signing_path_makes_a_bounded_number_of_queries(world, django_assert_num_queries):
    world.sign(world.broker_agent, world.broker_key)  # warm the chain verdict cache
    document = b"<ToKhai so='q'/>"
    signature = openssl_cms_sign(document, world.broker_key)
    # The trader; the certificate presented with its custodianship and current CRL; the broker's
    # licence; the mandates; then the declaration, its signature record and the audit event. The
    # other two are the savepoint of the test's own outer transaction and its release.
    with django_assert_num_queries(8) as queries:
        record = declaration_sign(
            actor=world.broker_agent, number="Q-1", kind="import", trader_tax_code=world.trader.tax_code,
            representation="", document=document, signature=signature,
        )  # fmt: skip
    assert record.outcome == "accepted"
    # Savepoints are the test's own outer transaction; in a request they are BEGIN and COMMIT.
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 10, statements


def test_the_declaration_keeps_the_exact_document_bytes(world):
    document = b"<ToKhai so='b'/>\x00\xff" + bytes(range(256)) * 40
    signature = openssl_cms_sign(document, world.trader_key)
    record = declaration_sign(
        actor=world.trader_signer, number="B-1", kind="import", trader_tax_code=world.trader.tax_code,
        representation="", document=document, signature=signature,
    )  # fmt: skip
    assert record.outcome == "accepted", record.reason_code
    stored = Declaration.objects.get(pk=record.declaration.pk)
    assert bytes(stored.document) == document
    assert stored.created_at == record.declaration.created_at is not None


# --- the API ----------------------------------------------------------------------------------------


@pytest.fixture
def agent_api(world):
    _key, secret = api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="ecus", scopes=["read", "declare"]
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")


def test_the_api_files_a_declaration_and_returns_a_receipt_that_verifies_offline(world, agent_api, settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 1
    response = agent_api.post(reverse("api_declarations"), filing_body(world, world.broker_key, "4001"),
                              content_type="application/json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["signature"]["agent_number"] == world.broker_agent.agent_profile.agent_number
    audit_seal()
    receipt = agent_api.get(body["receipt"])
    assert receipt.status_code == 200
    assert verify_receipt(receipt.json(), [signing_key().public_key()]).ok
    # The trader sees it too; another organisation does not.
    listed = agent_api.get(reverse("api_declarations")).json()["results"]
    assert [row["number"] for row in listed] == ["4001"]
    # The answer to the filing is the declaration as the API shows it afterwards, with every field.
    record = SignatureRecord.objects.get()
    assert agent_api.get(reverse("api_declaration", args=[body["id"]])).json() == body
    assert body["signature"] | {"created_at": None} == {
        "id": record.pk, "outcome": "accepted", "reason_code": "", "declaration_number": "4001",
        "declaration_kind": "import", "trader_tax_code": world.trader.tax_code,
        "signer": world.broker_agent.username, "signer_organization": world.broker.tax_code,
        "agent_number": record.agent_number, "certificate_fingerprint": record.certificate_fingerprint,
        "certificate_serial": record.certificate.serial_number, "authorization": record.authorization_id,
        "representation": "direct", "document_sha256": record.document_sha256, "created_at": None,
    }  # fmt: skip
    assert record.authorization_id is not None and body["trader_tax_code"] == world.trader.tax_code


def test_the_api_refuses_with_the_rule_code(world, agent_api):
    response = agent_api.post(reverse("api_declarations"), filing_body(world, world.trader_key, "4002"),
                              content_type="application/json")  # fmt: skip
    assert response.status_code == 403 and response.json()["code"] == "certificate_foreign_use"
    assert response.json()["fields"]["signature_record"] == SignatureRecord.objects.get().pk


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("document", 12, "Must be a base64 string."),
        ("document", "", "This field may not be blank."),
        ("document", "not base64!", "This is not valid base64."),
        ("signature", "\u00e9t\u00e9", "This is not valid base64."),
        ("signature", "\ud800AAAA", "This is not valid base64."),
        ("document", "A" * (MAX_DOCUMENT_BYTES * 4 // 3 + 12), "This file is too large."),
        ("signature", None, "This field may not be null."),
    ],
)
def test_the_api_refuses_a_document_or_signature_that_is_not_base64(world, agent_api, field, value, message):
    body = filing_body(world, world.broker_key, "4010") | {field: value}
    response = agent_api.post(
        reverse("api_declarations"), body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_input"
    assert response.json()["fields"] == {field: [message]}
    assert not SignatureRecord.objects.exists()  # not an attempt: nothing was presented to verify


def test_base64_with_a_trailing_newline_is_accepted(world, agent_api):
    body = filing_body(world, world.broker_key, "4011")
    body["document"] += "\n"
    response = agent_api.post(reverse("api_declarations"), body, content_type="application/json")
    assert response.status_code == 201, response.json()


def test_an_idempotency_key_replays_the_first_answer(world, agent_api):
    body = filing_body(world, world.broker_key, "4003")
    first = agent_api.post(reverse("api_declarations"), body, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="abc-1")  # fmt: skip
    again = agent_api.post(reverse("api_declarations"), body, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="abc-1")  # fmt: skip
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replay"] == "true"
    assert SignatureRecord.objects.count() == 1
    other = agent_api.post(reverse("api_declarations"), filing_body(world, world.broker_key, "4004"),
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc-1")  # fmt: skip
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_an_answer_quoting_a_nul_is_stored_and_replayed_for_an_idempotency_key(world, agent_api):
    # Found by CI's random-seed fuzz pass (seed 36684304): PostgreSQL's JSON holds no NUL, and the
    # refusal quoted the kind that carried one.
    body = filing_body(world, world.broker_key, "4008") | {"kind": "imp\x00ort"}
    first = agent_api.post(reverse("api_declarations"), body, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="nul-1", HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    again = agent_api.post(reverse("api_declarations"), body, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="nul-1", HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert (first.status_code, again.status_code) == (400, 400)
    assert first.json() == again.json() and again["Idempotent-Replay"] == "true"
    assert first.json()["fields"]["kind"] == ['"imp\ufffdort" is not a valid choice.']


def test_an_idempotency_key_over_255_characters_is_refused_not_cut(world, agent_api):
    body = filing_body(world, world.broker_key, "4005")
    response = agent_api.post(reverse("api_declarations"), body, content_type="application/json",
                              HTTP_IDEMPOTENCY_KEY="k" * 256, HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_idempotency_key",
        "detail": "An Idempotency-Key has at most 255 characters.",
        "fields": {"Idempotency-Key": ["max_length"]},
    }
    assert not SignatureRecord.objects.exists()
    response = agent_api.post(reverse("api_declarations"), body, content_type="application/json",
                              HTTP_IDEMPOTENCY_KEY="k" * 255)  # fmt: skip
    assert response.status_code == 201


def test_each_api_key_has_its_own_idempotency_keys(world, agent_api):
    _key, secret = api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="second tool", scopes=["read", "declare"]
    )
    second_api = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    first = agent_api.post(reverse("api_declarations"), filing_body(world, world.broker_key, "4006"),
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY="shared-1")  # fmt: skip
    other = second_api.post(reverse("api_declarations"), filing_body(world, world.broker_key, "4007"),
                            content_type="application/json", HTTP_IDEMPOTENCY_KEY="shared-1")  # fmt: skip
    # The second tool's filing is its own: neither the first tool's answer replayed nor refused as
    # a reused key.
    assert (first.status_code, other.status_code) == (201, 201)
    assert "Idempotent-Replay" not in other and first.json()["number"] != other.json()["number"]
    assert SignatureRecord.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_racing_get_one_answer(world, agent_api):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    body = filing_body(world, world.broker_key, "4005")
    barrier = threading.Barrier(2)
    answers = []

    def send():
        try:
            barrier.wait()
            response = agent_api.post(reverse("api_declarations"), body, content_type="application/json",
                                      HTTP_IDEMPOTENCY_KEY="race-1")  # fmt: skip
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 2 and answers[0] == answers[1] and answers[0][0] == 201
    assert SignatureRecord.objects.count() == 1 and Declaration.objects.count() == 1


def test_a_key_without_the_declare_scope_cannot_file(world):
    _key, secret = api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="ro", scopes=["read"]
    )
    response = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}").post(
        reverse("api_declarations"),
        filing_body(world, world.broker_key, "4006"),
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"
    assert not SignatureRecord.objects.exists()


def test_another_organisation_cannot_read_our_declarations(world, agent_api, outsider):
    filed = agent_api.post(reverse("api_declarations"), filing_body(world, world.broker_key, "4007"),
                           content_type="application/json").json()  # fmt: skip
    _key, secret = api_key_create(actor=outsider, holder=outsider, name="x", scopes=["read"])
    intruder = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert intruder.get(reverse("api_declarations")).json()["results"] == []
    assert intruder.get(reverse("api_declaration", args=[filed["id"]])).status_code == 404
    assert intruder.get(reverse("api_declaration_receipt", args=[filed["id"]])).status_code == 404


# --- the portal -------------------------------------------------------------------------------------


def test_a_signer_files_through_the_portal_and_the_owner_sees_every_signature(world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.helpers import sign_in

    world.sign(world.broker_agent, world.trader_key)  # a refused, foreign use
    world.sign(world.broker_agent, world.broker_key, number="5001")
    sign_in(client, "trader.signer")
    document = DOCUMENT.format(number="5002").encode()
    response = client.post(
        reverse("declaration_sign"),
        {
            "number": "5002", "kind": "import", "trader_tax_code": world.trader.tax_code,
            "document": SimpleUploadedFile("declaration.xml", document),
            "signature": SimpleUploadedFile("declaration.p7s", openssl_cms_sign(document, world.trader_key)),
        },
    )  # fmt: skip
    assert response.url == reverse("declaration_list")
    owner = Client()
    sign_in(owner, "trader.owner")
    page = owner.get(reverse("declaration_list")).content.decode()
    # The refusal in words, not its code.
    for text in (
        "5001",
        "5002",
        "Chứng thư số này thuộc về tổ chức khác.",
        world.broker_agent.agent_profile.agent_number,
    ):
        assert text in page
    assert "certificate_foreign_use" not in page


def test_the_portal_shows_a_refusal_and_another_enterprise_sees_nothing(world, client, outsider):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.helpers import sign_in

    world.sign(world.broker_agent, world.broker_key, number="6001")
    sign_in(client, "trader.signer")
    document = b"<ToKhai/>"
    response = client.post(
        reverse("declaration_sign"),
        {
            "number": "6002", "kind": "import", "trader_tax_code": world.trader.tax_code,
            "document": SimpleUploadedFile("d.xml", document + b"tampered"),
            "signature": SimpleUploadedFile("d.p7s", openssl_cms_sign(document, world.trader_key)),
        },
    )  # fmt: skip
    assert response.status_code == 422
    refusal = response.content.decode()
    assert (
        "Văn bản không phải là văn bản đã được ký" in refusal and "signature_digest_mismatch" not in refusal
    )
    intruder = Client()
    sign_in(intruder, "outsider")
    assert "6001" not in intruder.get(reverse("declaration_list")).content.decode()


def test_the_schema_allows_only_base64_the_api_accepts():
    import base64 as b64
    import re

    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    fields = schema["components"]["schemas"]["DeclarationInputRequest"]["properties"]
    for name in ("document", "signature"):
        pattern = re.compile(fields[name]["pattern"])
        assert fields[name]["minLength"] == 4
        for refused in ["", "   ", "A", "AB=", "not base64!", "QQ"]:
            assert not pattern.search(refused), (name, refused)
        for accepted in [b"x", b"xy", b"xyz", bytes(range(256))]:
            assert pattern.search(b64.b64encode(accepted).decode() + "\n"), (name, accepted)
