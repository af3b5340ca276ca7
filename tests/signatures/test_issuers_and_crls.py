"""Trusted issuers and revocation lists: only officers (or operators' commands) manage them; a CRL
is accepted only if its issuer signed it and it is current; a listed certificate stops working."""

from __future__ import annotations

import datetime
import http.server
import io
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent, Flag
from core.errors import ApplicationError
from signatures.models import Certificate, RevocationList, TrustedIssuer
from signatures.services.binding import certificate_prove, certificate_upload
from signatures.services.trust import (
    crl_import,
    crls_flag_stale,
    crls_refresh,
    trusted_issuer_add,
    trusted_issuer_set_status,
)
from tests.signatures.helpers import crl_bytes, trust
from tests.signatures.pki_factory import make_crl, openssl_dgst_sign

pytestmark = pytest.mark.django_db

SIGNER = {"signer_name": "Nguyễn Thị Lan", "signer_id_number": "001203004567"}


def refused_code(call) -> str:
    with pytest.raises(ApplicationError) as refusal:
        call()
    return refusal.value.code


def bind(actor, holder):
    certificate = certificate_upload(actor=actor, data=holder.cert_pem, **SIGNER)
    proof = openssl_dgst_sign(certificate.challenge.encode(), holder)
    return certificate_prove(certificate=certificate, proof=proof, actor=actor)


def test_adding_an_issuer(pki, officer):
    issuer = trusted_issuer_add(data=pki.root.cert_der, name="Root", actor=officer)
    assert (issuer.status, issuer.name) == ("active", "Root")
    assert AuditEvent.objects.filter(action="issuer.added", actor=officer).count() == 1


@pytest.mark.parametrize(
    ("case", "code"),
    [("leaf", "issuer_not_ca"), ("garbage", "certificate_malformed"), ("twice", "issuer_duplicate"),
     ("expired", "issuer_expired"), ("p521", "certificate_weak_algorithm")],
)  # fmt: skip
def test_bad_issuers_are_refused(pki, officer, case, code):
    now = datetime.datetime.now(datetime.UTC)
    if case == "twice":
        trusted_issuer_add(data=pki.root.cert_pem, name="", actor=officer)
    data = {
        "leaf": pki.trader.cert_pem,
        "garbage": b"not a certificate",
        "twice": pki.root.cert_pem,
        "expired": pki.ca(
            "Old CA",
            not_before=now - datetime.timedelta(days=900),
            not_after=now - datetime.timedelta(days=1),
        ).cert_pem,
        "p521": pki.ca("P-521 CA", key="p521", slot=150).cert_pem,
    }[case]
    assert refused_code(lambda: trusted_issuer_add(data=data, name="", actor=officer)) == code
    assert TrustedIssuer.objects.count() == (1 if case == "twice" else 0)


def test_only_officers_manage_issuers_and_crls(pki, trader_owner):
    assert refused_code(lambda: trusted_issuer_add(data=pki.root.cert_pem, name="", actor=trader_owner)) == (
        "not_allowed"
    )
    issuer = trust(pki.intermediate)[0]
    retire = lambda: trusted_issuer_set_status(issuer=issuer, status="retired", actor=trader_owner)  # noqa: E731
    assert refused_code(retire) == "not_allowed"
    crl = crl_bytes(make_crl(pki.intermediate))
    assert refused_code(lambda: crl_import(data=crl, actor=trader_owner)) == "not_allowed"


def test_a_crl_revokes_a_bound_certificate_and_it_stops_working(pki, trader, trader_owner, officer):
    trust(pki.intermediate)
    holder = pki.signer(tax_code=trader.tax_code, slot=20)
    certificate = bind(trader_owner, holder)
    revocation_list = crl_import(
        data=crl_bytes(make_crl(pki.intermediate, revoked=[holder.certificate])), actor=officer
    )
    assert revocation_list.revoked_count == 1
    certificate.refresh_from_db()
    assert certificate.status == "revoked"
    assert AuditEvent.objects.filter(action="certificate.revoked", target_id=str(certificate.pk)).exists()
    # The same certificate cannot come back.
    code = refused_code(lambda: certificate_upload(actor=trader_owner, data=holder.cert_pem, **SIGNER))
    assert code == "certificate_revoked"


@pytest.mark.parametrize(
    ("case", "code"),
    [("forged", "crl_invalid"), ("unknown_issuer", "crl_issuer_unknown"), ("stale", "crl_not_current"),
     ("garbage", "crl_malformed"), ("older", "crl_outdated"), ("delta", "crl_invalid")],
)  # fmt: skip
def test_bad_crls_are_refused_and_change_nothing(pki, officer, case, code):
    trust(pki.intermediate)
    now = datetime.datetime.now(datetime.UTC)
    if case == "older":
        crl_import(data=crl_bytes(make_crl(pki.intermediate)), actor=officer)
    data = {
        "forged": crl_bytes(make_crl(pki.intermediate, signing_key=pki.other_root.key)),
        "unknown_issuer": crl_bytes(make_crl(pki.other_root)),
        "stale": crl_bytes(
            make_crl(
                pki.intermediate,
                last_update=now - datetime.timedelta(days=10),
                next_update=now - datetime.timedelta(days=1),
            )
        ),
        "garbage": b"-----BEGIN X509 CRL-----\nnope\n-----END X509 CRL-----\n",
        "older": crl_bytes(make_crl(pki.intermediate, last_update=now - datetime.timedelta(days=3))),
        "delta": crl_bytes(make_crl(pki.intermediate, delta=True)),
    }[case]
    before = RevocationList.objects.count()
    assert refused_code(lambda: crl_import(data=data, actor=officer)) == code
    assert RevocationList.objects.count() == before
    assert AuditEvent.objects.filter(action="crl.refused").latest("pk").data["code"] == code


def test_loading_the_same_crl_twice_is_harmless(pki, officer):
    trust(pki.intermediate)
    data = crl_bytes(make_crl(pki.intermediate))
    first = crl_import(data=data, actor=officer)
    assert crl_import(data=data, actor=officer).pk == first.pk
    assert RevocationList.objects.count() == 1


def test_a_crl_that_goes_stale_is_flagged(pki, officer):
    trust(pki.intermediate)
    crl_import(data=crl_bytes(make_crl(pki.intermediate)), actor=officer)
    assert crls_flag_stale() == 0
    later = timezone.now() + datetime.timedelta(days=8)
    assert crls_flag_stale(now=later) == 1
    flag = Flag.objects.get(kind="crl_stale")
    assert flag.severity == "medium" and flag.organization is None


class _CrlServer(http.server.BaseHTTPRequestHandler):
    payload = b""
    status = 200

    def do_GET(self):
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def crl_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _CrlServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_crl_fetch_loads_from_the_distribution_point_and_keeps_the_last_good_one(pki, officer, crl_server):
    issuer = trust(pki.intermediate)[0]
    issuer.crl_url = f"http://127.0.0.1:{crl_server.server_port}/intermediate.crl"
    issuer.save()
    _CrlServer.payload = crl_bytes(make_crl(pki.intermediate))
    assert crls_refresh() == {issuer.fingerprint_sha256: "loaded"}
    good = RevocationList.objects.get()
    assert good.source == "fetch"
    _CrlServer.payload = crl_bytes(make_crl(pki.intermediate, signing_key=pki.other_root.key))
    assert crls_refresh() == {issuer.fingerprint_sha256: "crl_invalid"}
    issuer.crl_url = "http://127.0.0.1:9/nothing-listens-here"
    issuer.save()
    assert crls_refresh() == {issuer.fingerprint_sha256: "unreachable"}
    assert list(RevocationList.objects.all()) == [good]


def test_the_refresh_task_does_nothing_unless_crl_fetch_is_on(pki, settings, crl_server):
    from signatures.tasks import crls_refresh_task

    issuer = trust(pki.intermediate)[0]
    issuer.crl_url = f"http://127.0.0.1:{crl_server.server_port}/x.crl"
    issuer.save()
    _CrlServer.payload = crl_bytes(make_crl(pki.intermediate))
    settings.CRL_FETCH = False
    assert crls_refresh_task.delay().get() == {}
    settings.CRL_FETCH = True
    assert crls_refresh_task.delay().get() == {issuer.fingerprint_sha256: "loaded"}


def test_the_commands(pki, tmp_path):
    ca_file = tmp_path / "ca.cer"
    ca_file.write_bytes(pki.intermediate.cert_der)
    out = io.StringIO()
    call_command("add_trusted_issuer", str(ca_file), "--name", "Test CA", stdout=out)
    assert "trusted: Test CA" in out.getvalue()
    crl_file = tmp_path / "ca.crl"
    crl_file.write_bytes(
        make_crl(pki.intermediate, revoked=[pki.trader.certificate]).public_bytes(serialization.Encoding.PEM)
    )
    out = io.StringIO()
    call_command("import_crl", str(crl_file), stdout=out)
    assert "1 revoked certificate(s)" in out.getvalue()
    with pytest.raises(CommandError, match="issuer_duplicate"):
        call_command("add_trusted_issuer", str(ca_file))
    assert Certificate.objects.count() == 0


def test_listing_retiring_and_activating_by_command(pki):
    issuer = trust(pki.intermediate)[0]
    out = io.StringIO()
    call_command("trusted_issuers", "--retire", issuer.fingerprint_sha256, stdout=out)
    issuer.refresh_from_db()
    assert issuer.status == "retired" and "retired" in out.getvalue() and "no CRL" in out.getvalue()
    call_command("trusted_issuers", "--activate", issuer.fingerprint_sha256.upper(), stdout=io.StringIO())
    issuer.refresh_from_db()
    assert issuer.status == "active"
    with pytest.raises(CommandError):
        call_command("trusted_issuers", "--retire", "00" * 32)
    actions = AuditEvent.objects.filter(target_id=str(issuer.pk)).order_by("pk")
    actions = actions.values_list("action", flat=True)
    assert list(actions) == ["issuer.added", "issuer.retired", "issuer.activated"]
