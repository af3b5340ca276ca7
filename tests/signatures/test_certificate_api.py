"""A broker owner names its certificate's custodians with a ``manage`` key, and the binding
challenge comes as a file of the exact bytes to sign (``/api/v1/certificates/{id}/…``)."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from audit.models import Action, AuditEvent
from brokers.services.api_keys import api_key_create
from signatures.models import Certificate
from tests.factories import UserFactory
from tests.signatures.pki_factory import openssl_cms_sign

pytestmark = pytest.mark.django_db


def _api(user, scopes=("read", "manage")) -> Client:
    _key, secret = api_key_create(actor=user, holder=user, name="tool", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")


def _put(client, certificate, names):
    return client.put(
        reverse("api_certificate_custodians", args=[certificate.pk]),
        {"custodians": names},
        content_type="application/json",
    )


@pytest.fixture
def second_agent(world):
    return UserFactory(organization=world.broker, role=User.Role.SIGNER, username="broker.agent2")


def test_a_broker_owner_names_the_custodians_of_its_certificate(world, second_agent):
    response = _put(_api(world.broker_owner), world.broker_certificate, ["broker.agent", "broker.agent2"])
    assert response.status_code == 200, response.content
    assert sorted(response.json()["custodians"]) == ["broker.agent", "broker.agent2"]
    assert set(world.broker_certificate.custodians.all()) == {world.broker_agent, second_agent}
    event = AuditEvent.objects.filter(action=Action.CUSTODIANS_CHANGED).latest("pk")
    assert (event.actor_id, event.data["added"]) == (world.broker_owner.pk, [str(second_agent.pk)])
    # The list replaces the one before: naming no one leaves no custodian.
    assert _put(_api(world.broker_owner), world.broker_certificate, []).json()["custodians"] == []
    assert not world.broker_certificate.custodians.exists()


@pytest.mark.parametrize(
    "names",
    [
        ["nobody"],  # unknown
        ["trader.signer"],  # a signer of another enterprise
        ["broker.owner"],  # an owner, not a signer
    ],
)
def test_only_active_signers_of_the_enterprise_qualify(world, names):
    response = _put(_api(world.broker_owner), world.broker_certificate, names)
    assert (response.status_code, response.json()["code"]) == (400, "custodian_invalid")
    assert list(world.broker_certificate.custodians.all()) == [world.broker_agent]


def test_malformed_bodies_are_refused_with_the_field_named(world):
    client = _api(world.broker_owner)
    url = reverse("api_certificate_custodians", args=[world.broker_certificate.pk])
    for body in ({}, {"custodians": "broker.agent"}, {"custodians": [{"x": 1}]}):
        response = client.put(url, body, content_type="application/json")
        assert response.status_code == 400, body
        assert list(response.json()["fields"]) == ["custodians"]
    assert list(world.broker_certificate.custodians.all()) == [world.broker_agent]


def test_a_read_key_an_agent_and_another_enterprise_cannot_name_custodians(world, outsider):
    read_only = _put(_api(world.broker_owner, ["read"]), world.broker_certificate, [])
    assert (read_only.status_code, read_only.json()["code"]) == (403, "scope_missing")
    agent = _put(_api(world.broker_agent, ["read"]), world.broker_certificate, [])
    assert agent.status_code == 403
    other = _put(_api(outsider), world.trader_certificate, [])
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    # The trader's own owner reaches its certificate, not the broker's.
    crossing = _put(_api(world.trader_owner), world.broker_certificate, [])
    assert (crossing.status_code, crossing.json()["code"]) == (404, "not_found")
    assert list(world.broker_certificate.custodians.all()) == [world.broker_agent]
    assert list(world.trader_certificate.custodians.all()) == [world.trader_signer]


def test_the_challenge_file_is_exactly_what_is_signed(pki, trader, trader_owner):
    from tests.signatures.helpers import trust

    trust(pki.intermediate)
    holder = pki.signer(tax_code=trader.tax_code, slot=42)
    client = _api(trader_owner)
    created = client.post(
        reverse("api_certificates"),
        {
            "signer_name": "Nguyễn Thị Lan",
            "signer_id_number": "001203004567",
            "certificate": base64.b64encode(holder.cert_der).decode(),
        },
        content_type="application/json",
    ).json()
    url = reverse("api_certificate_challenge", args=[created["id"]])
    challenge = client.get(url)
    assert challenge.status_code == 200
    assert challenge.content == created["challenge"].encode("ascii") and not challenge.content.endswith(b"\n")
    assert challenge["Content-Disposition"] == f'attachment; filename="challenge-{created["id"]}.txt"'
    # A trailing newline is another message: the proof over it is refused.
    with_newline = openssl_cms_sign(challenge.content + b"\n", holder)
    refused = client.post(
        reverse("api_certificate_proof", args=[created["id"]]),
        {"signature": base64.b64encode(with_newline).decode()},
        content_type="application/json",
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "proof_invalid")
    proof = openssl_cms_sign(challenge.content, holder)
    bound = client.post(
        reverse("api_certificate_proof", args=[created["id"]]),
        {"signature": base64.b64encode(proof).decode()},
        content_type="application/json",
    )
    assert bound.json()["status"] == Certificate.Status.ACTIVE
    gone = client.get(url)
    assert (gone.status_code, gone.json()["code"]) == (409, "invalid_status")
