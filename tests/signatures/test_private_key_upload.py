"""A private key sent instead of a certificate (DESIGN §7): refused with a warning that says why,
by the portal and the API alike, and neither kept in the database nor written to the log."""

from __future__ import annotations

import base64
import logging
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from signatures import pki as product_pki
from signatures.models import Certificate
from tests.helpers import sign_in
from tests.signatures.helpers import trust

pytestmark = pytest.mark.django_db

DETAILS = {"signer_name": "Nguyễn Thị Lan", "signer_id_number": "001203004567", "signer_title": "Giám đốc"}
PASSPHRASE = b"the token's own passphrase"

RSA = "rsa2048"
EC = "p256"


def _key_file(identity, form: str, tmp_path) -> bytes:
    key = identity.key
    encoding = serialization.Encoding
    fmt = serialization.PrivateFormat
    plain = serialization.NoEncryption()
    locked = serialization.BestAvailableEncryption(PASSPHRASE)
    if form == "pem_pkcs8":
        return key.private_bytes(encoding.PEM, fmt.PKCS8, plain)
    if form == "pem_traditional":
        return key.private_bytes(encoding.PEM, fmt.TraditionalOpenSSL, plain)
    if form == "pem_encrypted":
        return key.private_bytes(encoding.PEM, fmt.PKCS8, locked)
    if form == "pem_certificate_with_key":
        return identity.cert_pem + key.private_bytes(encoding.PEM, fmt.PKCS8, plain)
    if form == "der_pkcs8":
        return key.private_bytes(encoding.DER, fmt.PKCS8, plain)
    if form == "der_traditional":  # PKCS#1 for RSA, SEC1 for EC
        return key.private_bytes(encoding.DER, fmt.TraditionalOpenSSL, plain)
    if form == "der_encrypted":
        return key.private_bytes(encoding.DER, fmt.PKCS8, locked)
    if form == "p12_locked":
        return pkcs12.serialize_key_and_certificates(b"token", key, identity.certificate, None, locked)
    if form == "p12_openssl":
        # As a CA's tool or a person at a terminal makes one.
        (tmp_path / "cert.pem").write_bytes(identity.cert_pem)
        (tmp_path / "key.pem").write_bytes(key.private_bytes(encoding.PEM, fmt.PKCS8, plain))
        subprocess.run(
            ["openssl", "pkcs12", "-export", "-in", tmp_path / "cert.pem", "-inkey", tmp_path / "key.pem",
             "-out", tmp_path / "token.pfx", "-passout", "pass:secret"],
            check=True, capture_output=True,
        )  # fmt: skip
        return (tmp_path / "token.pfx").read_bytes()
    raise AssertionError(form)


FORMS = [
    "pem_pkcs8", "pem_traditional", "pem_encrypted", "pem_certificate_with_key",
    "der_pkcs8", "der_traditional", "der_encrypted", "p12_locked", "p12_openssl",
]  # fmt: skip


@pytest.fixture
def owner(client, trader_owner):
    assert sign_in(client, "trader.owner").status_code == 302
    return client


def _stored_everywhere() -> str:
    """Every row of every table, as text: what the database would give away."""
    with connection.cursor() as cursor:
        dump = []
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # names from the schema itself
            dump.append(repr(cursor.fetchall()))
    return "\n".join(dump)


def _traces(data: bytes) -> list[str]:
    """The file as it would appear if it leaked: raw text, base64, hex, a piece of its middle."""
    middle = data[len(data) // 3 : len(data) // 3 + 24]
    return [base64.b64encode(middle).decode(), middle.hex()] + (
        [data.decode("ascii").splitlines()[1]] if data.startswith(b"-----") else []
    )


@pytest.mark.parametrize("key", [RSA, EC])
@pytest.mark.parametrize("form", FORMS)
def test_the_portal_refuses_a_private_key_with_a_warning_and_keeps_nothing(
    owner, pki, trader, form, key, tmp_path, caplog
):
    trust(pki.intermediate)
    identity = pki.signer(tax_code=trader.tax_code, slot=50, key=key)
    data = _key_file(identity, form, tmp_path)
    with caplog.at_level(logging.DEBUG):
        response = owner.post(
            reverse("certificate_upload"),
            DETAILS | {"certificate": SimpleUploadedFile("my-token.p12", data)},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A private key must never leave its owner" in page
    assert "certificate_private_key" in page
    assert '<a href="#id_certificate">' in page  # the summary leads to the file field
    assert not Certificate.objects.exists()
    (refusal,) = AuditEvent.objects.filter(action="certificate.rejected")
    assert refusal.data == {"code": "certificate_private_key", "fingerprint": ""}
    stored = _stored_everywhere()
    for trace in _traces(data):
        assert trace not in stored
        assert trace not in caplog.text
        assert trace not in page


@pytest.mark.parametrize("form", ["pem_pkcs8", "der_traditional", "p12_locked"])
def test_the_api_refuses_a_private_key_with_its_own_code(owner, pki, trader, form, tmp_path):
    identity = pki.signer(tax_code=trader.tax_code, slot=51)
    data = _key_file(identity, form, tmp_path)
    response = owner.post(
        reverse("api_certificates"),
        DETAILS | {"certificate": base64.b64encode(data).decode()},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "certificate_private_key"
    assert not Certificate.objects.exists()


def test_certificates_and_other_files_are_not_taken_for_keys(pki):
    identity = pki.signer(slot=52)
    for data in (identity.cert_pem, identity.cert_der, b"garbage", b"", b"\x30\x03\x02\x01\x03"):
        assert not product_pki.holds_private_key(data), data[:20]
