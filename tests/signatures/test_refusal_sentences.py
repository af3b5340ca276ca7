"""No library text reaches a person (issue 22): a refused certificate or signature is explained by
our own translated sentence for its code, on the portal and in the API's ``detail``, never by the
certificate library's words ("validation failed: candidates exhausted…")."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from brokers.services.api_keys import api_key_create
from core.errors import ApplicationError
from signatures.refusals import SENTENCES, refusal_sentence
from signatures.services.binding import certificate_upload
from tests.cast import filing_body
from tests.conftest import ROOT
from tests.signatures.helpers import trust

pytestmark = pytest.mark.django_db

SIGNER = {"signer_name": "Nguyễn Thị Lan", "signer_id_number": "001203004567", "signer_title": "Giám đốc"}
LIBRARY_WORDS = re.compile(r"validation failed|candidates|exhausted|X\.509 certificate in PEM|\bthe\b", re.I)


def codes_raised_by_the_checks() -> set[str]:
    """Every code ``pki`` and ``cms`` raise, read from their source so a new one is covered."""
    codes = set()
    for module in ("pki.py", "cms.py"):
        source = (ROOT / "signatures" / module).read_text()
        codes |= set(re.findall(r"(?:CertificateError|SignatureError|__init__)\(\s*\"([a-z_]+)\"", source))
    return codes


def test_every_code_the_certificate_and_signature_checks_raise_has_a_sentence():
    codes = codes_raised_by_the_checks()
    assert {"certificate_untrusted", "certificate_revoked", "signature_digest_mismatch"} <= codes
    assert codes - set(SENTENCES) == set()


def test_an_unknown_code_still_reads_as_a_sentence_not_a_code():
    with translation.override("vi"):
        assert refusal_sentence("something_new") == "Chữ ký hoặc chứng thư số đã bị từ chối."


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda pki, trader: pki.signer(tax_code=trader.tax_code, slot=7, issuer=pki.other_root).cert_pem,
         "certificate_untrusted"),
        (lambda pki, trader: b"\x30\x82\x01\x00garbage", "certificate_malformed"),
        (lambda pki, trader: pki.ca("Rogue CA", issuer=pki.intermediate).cert_pem,
         "certificate_not_end_entity"),
    ],
)  # fmt: skip
def test_a_refused_upload_is_explained_in_vietnamese_without_the_librarys_words(
    pki, trader, trader_owner, make, code
):
    trust(pki.intermediate)
    with translation.override("vi"), pytest.raises(ApplicationError) as refusal:
        certificate_upload(actor=trader_owner, data=make(pki, trader), **SIGNER)
    assert refusal.value.code == code
    with translation.override("vi"):
        assert str(refusal.value.detail) == refusal_sentence(code)
    assert LIBRARY_WORDS.search(str(refusal.value.detail)) is None


def test_the_api_explains_a_tampered_document_in_the_callers_language(world):
    _key, secret = api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="ecus", scopes=["read", "declare"]
    )
    body = filing_body(world, world.broker_key, "7001")
    body["document"] = filing_body(world, world.broker_key, "7002")["document"]  # signed over 7001's
    answer = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", HTTP_ACCEPT_LANGUAGE="vi").post(
        reverse("api_declarations"), body, content_type="application/json"
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "signature_digest_mismatch"
    assert (
        answer.json()["detail"] == "Văn bản không phải là văn bản đã được ký. Hãy ký đúng tệp mà bạn tải lên."
    )
