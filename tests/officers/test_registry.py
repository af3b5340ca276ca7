"""Registry work in the console: licences, issuers, CRLs, certificates, enterprises. Every change
goes through the portal's services; bad input is refused clearly and changes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Organization
from audit.models import Action, AuditEvent
from brokers.models import Authorization, BrokerLicence
from signatures.models import Certificate, RevocationList, TrustedIssuer
from tests.signatures.helpers import crl_bytes
from tests.signatures.pki_factory import make_crl

pytestmark = pytest.mark.django_db


def action_url(model: str, pk: int, action: str) -> str:
    return f"/officers/{model}/{pk}/do/{action}/"


def form_codes(response) -> list[str]:
    form = response.context["form"]
    return [error.code for errors in form.errors.as_data().values() for error in errors]


# --- broker licences --------------------------------------------------------------------------


def test_a_registrar_suspends_a_broker_and_its_mandates_follow(world, console):
    client = console("registrar")
    licence = BrokerLicence.objects.get(organization=world.broker)
    page = client.get(f"/officers/brokers/brokerlicence/{licence.pk}/change/")
    assert action_url("brokers/brokerlicence", licence.pk, "suspend") in page.content.decode()
    response = client.post(
        action_url("brokers/brokerlicence", licence.pk, "suspend"), {"reason": "3 missed reports"}
    )
    assert response.status_code == 302
    licence.refresh_from_db()
    world.mandate.refresh_from_db()
    assert licence.status == "suspended" and licence.status_reason == "3 missed reports"
    assert world.mandate.status == Authorization.Status.SUSPENDED
    event = AuditEvent.objects.get(action=Action.LICENCE_SUSPENDED)
    assert event.actor == client.officer and event.channel == "officers"
    assert AuditEvent.objects.filter(
        action=Action.AUTHORIZATION_SUSPENDED, target_id=str(world.mandate.pk)
    ).exists()
    # and back
    response = client.post(
        action_url("brokers/brokerlicence", licence.pk, "reinstate"), {"reason": "reports filed"}
    )
    assert response.status_code == 302
    world.mandate.refresh_from_db()
    assert world.mandate.status == Authorization.Status.ACTIVE


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_suspension_without_a_reason_is_refused_and_changes_nothing(broker_licence, console, reason):
    client = console("registrar")
    response = client.post(
        action_url("brokers/brokerlicence", broker_licence.pk, "suspend"), {"reason": reason}
    )
    assert response.status_code == 400 and "required" in form_codes(response)
    broker_licence.refresh_from_db()
    assert broker_licence.status == "active"
    assert not AuditEvent.objects.filter(action=Action.LICENCE_SUSPENDED).exists()


def test_suspending_a_suspended_licence_is_refused_with_the_services_code(broker_licence, console):
    client = console("registrar")
    client.post(action_url("brokers/brokerlicence", broker_licence.pk, "suspend"), {"reason": "one"})
    response = client.post(
        action_url("brokers/brokerlicence", broker_licence.pk, "suspend"), {"reason": "two"}
    )
    assert response.status_code == 400 and form_codes(response) == ["invalid_transition"]
    assert AuditEvent.objects.filter(action=Action.LICENCE_SUSPENDED).count() == 1


@pytest.mark.parametrize("group", ["viewer", "investigator"])
def test_viewers_and_investigators_cannot_touch_licences(broker_licence, console, group):
    client = console(group)
    page = client.get(f"/officers/brokers/brokerlicence/{broker_licence.pk}/change/")
    assert page.status_code == 200
    assert "/do/suspend/" not in page.content.decode()
    response = client.post(action_url("brokers/brokerlicence", broker_licence.pk, "suspend"), {"reason": "x"})
    assert response.status_code == 403
    broker_licence.refresh_from_db()
    assert broker_licence.status == "active"


def test_the_console_never_saves_a_licence_directly(broker_licence, console):
    client = console("administrator")
    response = client.post(
        f"/officers/brokers/brokerlicence/{broker_licence.pk}/change/", {"status": "revoked", "number": "X"}
    )
    assert response.status_code == 403
    assert client.post(f"/officers/brokers/brokerlicence/{broker_licence.pk}/delete/").status_code == 403
    broker_licence.refresh_from_db()
    assert broker_licence.status == "active"


# --- certificates -----------------------------------------------------------------------------


def test_a_registrar_suspends_reinstates_and_revokes_a_certificate(world, console):
    client = console("registrar")
    certificate = world.trader_certificate
    url = lambda action: action_url("signatures/certificate", certificate.pk, action)  # noqa: E731
    assert client.post(url("suspend"), {"reason": "lent to a broker"}).status_code == 302
    certificate.refresh_from_db()
    assert (certificate.status, certificate.suspended_by) == ("suspended", "officer")
    assert client.post(url("reinstate"), {}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "active"
    response = client.post(url("revoke"), {"reason": ""})
    assert response.status_code == 400
    assert client.post(url("revoke"), {"reason": "key compromised"}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert AuditEvent.objects.filter(action=Action.CERTIFICATE_REVOKED, actor=client.officer).exists()


# --- trusted issuers and CRLs -------------------------------------------------------------------


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_a_registrar_adds_a_trusted_issuer_and_loads_its_crl(pki, console):
    client = console("registrar")
    response = client.post(
        "/officers/trusted-issuers/add/",
        {"certificate": upload("ca.pem", pki.intermediate.cert_pem), "name": "Test CA", "crl_url": ""},
    )
    assert response.status_code == 302, form_codes(response)
    issuer = TrustedIssuer.objects.get()
    assert issuer.name == "Test CA" and issuer.added_by == client.officer
    response = client.post(
        "/officers/revocation-lists/upload/", {"crl": upload("ca.crl", crl_bytes(make_crl(pki.intermediate)))}
    )
    assert response.status_code == 302, form_codes(response)
    assert RevocationList.objects.get().issuer == issuer


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("ca.txt", b"whatever", "unsupported_file"),
        ("ca.pem", b"", "empty"),
        (
            "ca.pem",
            b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
            "certificate_malformed",
        ),
        ("ca.pem", b"\x00" * (65 * 1024), "file_too_large"),
        ("leaf.pem", None, "issuer_not_ca"),
    ],
)
def test_bad_issuer_files_are_refused_clearly(pki, console, filename, content, code):
    content = pki.trader.cert_pem if content is None else content
    client = console("registrar")
    response = client.post("/officers/trusted-issuers/add/", {"certificate": upload(filename, content)})
    assert response.status_code == 400
    assert code in form_codes(response)
    assert not TrustedIssuer.objects.exists()


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("list.exe", b"MZ", "unsupported_file"),
        ("list.crl", b"garbage", "crl_malformed"),
        ("list.crl", None, "crl_issuer_unknown"),
    ],
)
def test_bad_crls_are_refused_clearly(pki, console, filename, content, code):
    content = crl_bytes(make_crl(pki.other_root)) if content is None else content
    client = console("registrar")
    response = client.post("/officers/revocation-lists/upload/", {"crl": upload(filename, content)})
    assert response.status_code == 400
    assert code in form_codes(response)
    assert not RevocationList.objects.exists()


def test_a_viewer_cannot_upload(pki, console):
    client = console("viewer")
    response = client.post(
        "/officers/trusted-issuers/add/", {"certificate": upload("ca.pem", pki.root.cert_pem)}
    )
    assert response.status_code == 403
    assert not TrustedIssuer.objects.exists()


# --- enterprises --------------------------------------------------------------------------------


def test_a_registrar_suspends_an_enterprise_and_marks_it_non_cooperative(trader, console):
    client = console("registrar")
    url = lambda action: action_url("accounts/organization", trader.pk, action)  # noqa: E731
    response = client.post(url("mark-non-cooperation"), {"reason": ""})
    assert response.status_code == 400 and "required" in form_codes(response)
    trader.refresh_from_db()
    assert not trader.non_cooperation
    assert client.post(url("mark-non-cooperation"), {"reason": "ignored three requests"}).status_code == 302
    assert client.post(url("suspend"), {"reason": "pending investigation"}).status_code == 302
    trader.refresh_from_db()
    assert trader.non_cooperation and trader.non_cooperation_reason == "ignored three requests"
    assert trader.status == Organization.Status.SUSPENDED
    assert AuditEvent.objects.filter(action=Action.ORGANIZATION_NON_COOPERATION, organization=trader).exists()
    assert client.post(url("reinstate"), {"reason": "cleared"}).status_code == 302
    assert client.post(url("clear-non-cooperation"), {"reason": "cooperates now"}).status_code == 302
    trader.refresh_from_db()
    assert trader.status == "active" and not trader.non_cooperation


def test_reading_an_enterprise_is_audited(trader, console):
    client = console("viewer")
    assert client.get(f"/officers/accounts/organization/{trader.pk}/change/").status_code == 200
    event = AuditEvent.objects.get(action=Action.OFFICER_VIEWED, actor=client.officer)
    assert event.organization == trader and event.target_id == str(trader.pk)


def test_listing_people_is_audited_even_without_a_search(trader_owner, console):
    client = console("viewer")
    assert client.get("/officers/accounts/user/", {"role__exact": "owner"}).status_code == 200
    event = AuditEvent.objects.get(action=Action.OFFICER_VIEWED, actor=client.officer)
    assert event.target_type == "accounts.user" and event.data["filters"] == {"role__exact": "owner"}
    # A list of licences (no personal data) is not, unless searched.
    client.get("/officers/brokers/brokerlicence/")
    assert AuditEvent.objects.filter(action=Action.OFFICER_VIEWED).count() == 1
    client.get("/officers/brokers/brokerlicence/", {"q": "DLHQ"})
    assert AuditEvent.objects.filter(action=Action.OFFICER_VIEWED).count() == 2
