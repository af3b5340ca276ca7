"""The binding and signing pages show the three ways to sign (csg-sign with a token, csg-sign with a
.p12, openssl) with the commands filled in, and where CAs' PKCS#11 libraries usually are."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from signatures.services.binding import certificate_upload
from tests.helpers import sign_in
from tests.signatures.helpers import trust

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(pki, trader, trader_owner):
    trust(pki.intermediate)
    return certificate_upload(
        actor=trader_owner,
        data=pki.signer(tax_code=trader.tax_code, slot=40).cert_pem,
        signer_name="Nguyễn Thị Lan",
        signer_id_number="001203004567",
    )


def page(client, name: str, *args, language: str) -> str:
    response = client.get(reverse(name, args=args), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("language", "heading", "modules"),
    [("vi", "Ba cách ký", "Thư viện PKCS#11 của token thường nằm ở đâu"),
     ("en", "Three ways to sign", "Where your token's PKCS#11 library usually is")],
)  # fmt: skip
def test_the_binding_page_fills_in_the_certificate_and_the_site(
    client, pending, trader_owner, language, heading, modules
):
    sign_in(client, "trader.owner")

    text = page(client, "certificate_proof", pending.pk, language=language)

    assert heading in text and modules in text
    assert f"csg-sign prove {pending.pk} --api http://testserver --pkcs11-module LIB" in text
    assert f"csg-sign prove {pending.pk} --api http://testserver --pkcs12 company.p12" in text
    assert "openssl cms -sign -binary -outform DER -in challenge.txt" in text
    assert "vnpt-ca_csp11.dll" in text and "viettel-ca_v6.dll" in text and "BkavCA.dll" in text
    assert "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so" in text


def test_the_binding_page_says_in_vietnamese_that_the_library_names_are_to_be_checked(
    client, pending, trader_owner
):
    sign_in(client, "trader.owner")

    text = page(client, "certificate_proof", pending.pk, language="vi")

    assert "vì vậy hãy kiểm tra xem tệp có thật trên máy không" in text
    assert "trình điều khiển Linux của CA, nếu CA có cung cấp" in text


def test_the_signing_page_fills_in_the_file_names_the_trader_and_the_site(client, trader, trader_signer):
    sign_in(client, "trader.signer")

    text = page(client, "declaration_sign", language="en")

    assert "csg-sign sign declaration.xml -o declaration.p7s --pkcs11-module LIB" in text
    assert "csg-sign sign declaration.xml -o declaration.p7s --pkcs12 company.p12" in text
    assert "openssl cms -sign -binary -outform DER -in declaration.xml" in text
    assert (
        f"csg-sign file declaration.xml --number NUMBER --kind import --trader {trader.tax_code} "
        "--api http://testserver --pkcs11-module LIB"
    ) in text
    assert "fpt-ca.dll" in text
