"""The certificate pages and ``/api/v1/certificates/``: the same service behind both, and nothing
of one enterprise reachable by another."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from signatures.models import AbuseReport, Certificate
from tests.helpers import sign_in
from tests.signatures.helpers import trust
from tests.signatures.pki_factory import openssl_cms_sign, openssl_dgst_sign

pytestmark = pytest.mark.django_db

DETAILS = {"signer_name": "Nguyễn Thị Lan", "signer_id_number": "001203004567", "signer_title": "Giám đốc"}


@pytest.fixture
def holder(pki, trader):
    trust(pki.intermediate)
    return pki.signer(tax_code=trader.tax_code, slot=40)


@pytest.fixture
def owner(client, trader_owner):
    assert sign_in(client, "trader.owner").status_code == 302
    return client


def test_binding_through_the_portal(owner, holder, trader_signer):
    assert owner.get(reverse("certificate_list")).status_code == 200
    response = owner.post(
        reverse("certificate_upload"),
        DETAILS | {"certificate": SimpleUploadedFile("hoabinh.cer", holder.cert_der)},
    )
    certificate = Certificate.objects.get()
    assert response.url == reverse("certificate_proof", args=[certificate.pk])
    page = owner.get(response.url).content.decode()
    assert certificate.challenge in page and "openssl cms -sign -binary -outform DER" in page
    challenge = owner.get(reverse("certificate_challenge", args=[certificate.pk]))
    assert challenge.content == certificate.challenge.encode()
    proof = openssl_cms_sign(challenge.content, holder)
    done = owner.post(
        reverse("certificate_proof", args=[certificate.pk]), {"proof": SimpleUploadedFile("p.p7s", proof)}
    )
    assert done.url == reverse("certificate_detail", args=[certificate.pk])
    certificate.refresh_from_db()
    assert certificate.status == "active"
    # Custodians and suspension from the certificate's page.
    detail = reverse("certificate_detail", args=[certificate.pk])
    owner.post(detail, {"action": "custodians", "custodians": [trader_signer.pk]})
    assert list(certificate.custodians.all()) == [trader_signer]
    suspend = reverse("certificate_status_change", args=[certificate.pk])
    owner.post(suspend, {"action": "suspend", "reason": "token at the repair shop"})
    certificate.refresh_from_db()
    assert certificate.status == "suspended"


def test_a_refused_upload_shows_its_code_and_keeps_nothing(owner, pki, trader):
    trust(pki.intermediate)
    stranger = pki.signer(tax_code="0100686209" if trader.tax_code != "0100686209" else "0301234562", slot=41)
    response = owner.post(
        reverse("certificate_upload"),
        DETAILS | {"certificate": SimpleUploadedFile("x.cer", stranger.cert_pem)},
    )
    assert response.status_code == 400
    assert "certificate_tax_code_mismatch" in response.content.decode()
    assert not Certificate.objects.exists()


def test_a_bad_proof_shows_its_error(owner, holder):
    owner.post(
        reverse("certificate_upload"), DETAILS | {"certificate": SimpleUploadedFile("a.cer", holder.cert_pem)}
    )
    certificate = Certificate.objects.get()
    response = owner.post(
        reverse("certificate_proof", args=[certificate.pk]),
        {"proof": SimpleUploadedFile("p.sig", b"nonsense")},
    )
    assert response.status_code == 400
    certificate.refresh_from_db()
    assert certificate.status == "pending_proof"


def test_a_misuse_report_from_the_portal(client, holder, trader_owner, trader_signer):
    sign_in(client, "trader.signer")
    answers = {"description": "My token was used by our broker."}
    check = client.post(reverse("abuse_report"), answers, HTTP_ACCEPT_LANGUAGE="en")
    # First the answers and their consequences, with nothing reported yet.
    assert check.status_code == 200
    assert "Customs officers are told" in check.content.decode()
    assert 'name="confirmed" value="yes"' in check.content.decode()
    assert not AbuseReport.objects.exists()
    changed = client.post(reverse("abuse_report"), answers | {"confirmed": "yes", "change": "yes"})
    assert changed.status_code == 200 and not AbuseReport.objects.exists()
    assert "My token was used by our broker." in changed.content.decode()
    response = client.post(reverse("abuse_report"), answers | {"confirmed": "yes"})
    assert response.url == reverse("certificate_list")
    report = AbuseReport.objects.get()
    assert (report.reporter, report.reported_user) == (trader_signer, None)


def test_an_outsider_reaches_nothing_of_ours(client, owner, holder, outsider):
    owner.post(
        reverse("certificate_upload"), DETAILS | {"certificate": SimpleUploadedFile("a.cer", holder.cert_pem)}
    )
    certificate = Certificate.objects.get()
    intruder = Client()
    sign_in(intruder, "outsider")
    assert certificate.subject not in intruder.get(reverse("certificate_list")).content.decode()
    for name in ("certificate_detail", "certificate_proof", "certificate_challenge"):
        assert intruder.get(reverse(name, args=[certificate.pk])).status_code == 404
    assert (
        intruder.post(
            reverse("certificate_detail", args=[certificate.pk]), {"action": "reinstate"}
        ).status_code
        == 404
    )
    api = intruder.post(
        reverse("api_certificate_proof", args=[certificate.pk]),
        {"signature": base64.b64encode(openssl_dgst_sign(certificate.challenge.encode(), holder)).decode()},
        content_type="application/json",
    )
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    assert intruder.get(reverse("api_certificates")).json() == []
    certificate.refresh_from_db()
    assert certificate.status == "pending_proof"


def test_the_api_binds_with_base64_and_with_files(owner, holder):
    created = owner.post(
        reverse("api_certificates"),
        DETAILS | {"certificate": base64.b64encode(holder.cert_der).decode()},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "pending_proof" and body["challenge"].startswith("csg-proof-of-possession:")
    assert "signer_id_number" not in body
    proof = openssl_dgst_sign(body["challenge"].encode(), holder)
    bound = owner.post(
        reverse("api_certificate_proof", args=[body["id"]]),
        {"file": SimpleUploadedFile("proof.sig", proof)},
    )
    assert (
        bound.status_code == 200 and bound.json()["status"] == "active" and bound.json()["challenge"] is None
    )
    listed = owner.get(reverse("api_certificates")).json()
    assert [item["id"] for item in listed] == [body["id"]]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"certificate": "%%%not base64"}, "invalid_input"),
        ({}, "invalid_input"),
        ({"certificate": base64.b64encode(b"x" * 70000).decode()}, "certificate_too_large"),
        ({"certificate": base64.b64encode(b"garbage").decode()}, "certificate_malformed"),
        ({"certificate": "AAAA", "signer_id_number": "12"}, "invalid_citizen_id"),
    ],
)
def test_api_errors_have_documented_codes(owner, holder, payload, code):
    response = owner.post(reverse("api_certificates"), DETAILS | payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Certificate.objects.exists()


def test_anonymous_api_calls_are_refused(client):
    for response in (
        client.get(reverse("api_certificates")),
        client.post(reverse("api_certificate_proof", args=[1])),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Api-Key"
