"""A trader registers in Vietnamese, verifies the email, turns on two-factor authentication and
binds its certificate with a proof of possession made by openssl, as a person would in a browser
(issue "Proof under real conditions", browser journeys)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from django.core import mail
from django_otp.oath import totp

from accounts.models import Organization, User
from signatures.models import Certificate
from tests.signatures.helpers import trust
from tests.signatures.pki_factory import Pki, openssl_dgst_sign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TAX_CODE = "3500807781"
PASSWORD = "sóng-vỗ-ghềnh-đá-lúc-bình-minh-2719"


def _code(secret_base32: str) -> str:
    return f"{totp(base64.b32decode(secret_base32)):06d}"


def test_a_trader_registers_verifies_turns_on_mfa_and_binds_its_certificate(
    journey, tmp_path, secrets_of_the_journey
):
    secrets_of_the_journey += [PASSWORD, "056089001234"]
    pki = Pki()
    trust(pki.root, pki.intermediate)
    identity = pki.signer(company="Công ty TNHH Biển Xanh", tax_code=TAX_CODE, slot=70)
    owner = journey("owner")
    page = owner.go("/accounts/register/")
    assert page.locator("html").get_attribute("lang") == "vi"
    owner.shot("registration form")
    for name, value in {
        "tax_code": TAX_CODE, "name": "Công ty TNHH Biển Xanh", "address": "12 Trần Phú, Nha Trang",
        "province": "Khánh Hòa", "phone": "0258 3852 123", "email": "lienhe@bienxanh.example",
        "legal_representative_name": "Trần Văn Hải", "legal_representative_id_number": "056089001234",
        "username": "hai.tran", "first_name": "Hải", "last_name": "Trần",
        "owner_email": "hai@bienxanh.example", "owner_phone": "0912 345 678",
        "national_id_number": "056089001234", "job_title": "Giám đốc",
        "password1": PASSWORD, "password2": PASSWORD,
    }.items():  # fmt: skip
        page.fill(f"[name={name}]", value)
    owner.submit("tax_code")
    owner.shot("registered")
    assert page.url.endswith("/accounts/register/done/"), owner.text()
    assert Organization.objects.get(tax_code=TAX_CODE).status == "pending_verification"

    # The verification link from the email, opened in the same browser.
    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/verify-email/\S+/)", message.body).group(1)
    owner.go(link)
    page.wait_for_url("**/accounts/login/**")
    assert "xác minh" in owner.text().lower()
    owner.shot("email verified")

    page.fill("[name=username]", "hai.tran")
    page.fill("[name=password]", PASSWORD)
    owner.submit("password")
    # An owner must turn on two-factor authentication before anything else.
    page.wait_for_url("**/accounts/mfa/**")
    owner.shot("mfa required")
    page.click("form:has(input[value=begin]) button")
    secret = page.inner_text("code.secret").strip()
    # Shown in groups of four, as a person types it into an app; the spaces are not part of it.
    assert all(len(group) == 4 for group in secret.split(" ")[:-1])
    secret = secret.replace(" ", "")
    assert page.locator("img.qr").get_attribute("src").startswith("data:image/svg+xml")
    owner.shot("authenticator setup")
    page.fill("[name=code]", _code(secret))
    page.click("form:has(input[value=confirm]) button")
    page.wait_for_load_state()
    assert User.objects.get(username="hai.tran").totpdevice_set.filter(confirmed=True).exists()
    owner.shot("recovery codes")
    # Kept as a text file, downloaded from the page itself (the server keeps nothing to fetch).
    shown = [code.strip() for code in page.locator("ul.codes code").all_inner_texts()]
    with page.expect_download() as download:
        page.click("a[download]")
    kept = Path(download.value.path()).read_text(encoding="utf-8")
    assert len(shown) == 10 and all(code in kept for code in shown)
    assert download.value.suggested_filename == "recovery-codes-haitran.txt"
    assert page.locator(".print-button").is_visible()  # with JavaScript, a print button

    # Bind the certificate: upload, then prove possession of the key with openssl.
    owner.go("/certificates/upload/")
    (tmp_path / "bienxanh.pem").write_bytes(identity.cert_pem)
    page.set_input_files("[name=certificate]", str(tmp_path / "bienxanh.pem"))
    page.fill("[name=signer_name]", "Trần Văn Hải")
    page.fill("[name=signer_id_number]", "056089001234")
    owner.shot("certificate upload")
    owner.submit("certificate")
    certificate = Certificate.objects.get(organization__tax_code=TAX_CODE)
    assert certificate.status == "pending_proof"
    owner.shot("challenge")
    challenge = page.request.get(owner.base + f"/certificates/{certificate.pk}/challenge.txt").body()
    (tmp_path / "proof.sig").write_bytes(openssl_dgst_sign(challenge, identity))
    page.set_input_files("[name=proof]", str(tmp_path / "proof.sig"))
    owner.submit("proof")
    owner.shot("certificate bound")
    certificate.refresh_from_db()
    assert certificate.status == "active"
    # The first matching binding verifies the enterprise.
    assert Organization.objects.get(tax_code=TAX_CODE).status == "active"
    assert certificate.serial_number in owner.text() and "Đang hoạt động" in owner.text()
