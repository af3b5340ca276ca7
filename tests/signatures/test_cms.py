from __future__ import annotations

import base64
import datetime

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import hostile_cms
from core.error_codes import ERROR_CODES
from signatures import cms
from signatures.cms import SignatureError
from tests.fuzz import examples
from tests.signatures.pki_factory import openssl_cms_sign, openssl_dgst_sign

DOCUMENT = "Tờ khai hải quan 305123456789, hàng nhập khẩu\n".encode()
CHALLENGE = b"cert-binding-challenge:7f3a9c\n"
DAY = datetime.timedelta(days=1)


def code_of(check, *args, **kwargs) -> str:
    with pytest.raises(SignatureError) as caught:
        check(*args, **kwargs)
    return caught.value.code


@pytest.fixture(scope="module")
def signed(pki) -> bytes:
    """What a trader's signing tool sends: detached, DER, with signed attributes."""
    return openssl_cms_sign(DOCUMENT, pki.trader)


# --- what openssl makes verifies -----------------------------------------------------------------


def test_a_detached_signature_with_signed_attributes_verifies(pki, signed):
    result = cms.verify_detached(signed, DOCUMENT)
    assert result.signer_certificate == pki.trader.certificate
    assert result.certificates == [pki.trader.certificate]
    assert result.digest_algorithm == "sha256"
    assert result.has_signed_attributes is True
    assert abs(result.signing_time - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)


def test_a_signature_without_signed_attributes_verifies_over_the_content(pki):
    result = cms.verify_detached(openssl_cms_sign(DOCUMENT, pki.trader, noattr=True), DOCUMENT)
    assert result.has_signed_attributes is False
    assert result.signing_time is None


@pytest.mark.parametrize("noattr", [False, True], ids=["signed attributes", "no attributes"])
def test_rsassa_pss_verifies(pki, noattr):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, pss=True, noattr=noattr)
    parsed = asn1_cms.ContentInfo.load(signature)["content"]["signer_infos"][0]
    assert parsed["signature_algorithm"]["algorithm"].native == "rsassa_pss"
    assert cms.verify_detached(signature, DOCUMENT).signer_certificate == pki.trader.certificate


@pytest.mark.parametrize("key", ["p256", "p384", "rsa3072"])
@pytest.mark.parametrize("noattr", [False, True], ids=["signed attributes", "no attributes"])
def test_ec_and_larger_rsa_keys_verify(pki, key, noattr):
    signer = pki.signer(key=key)
    result = cms.verify_detached(openssl_cms_sign(DOCUMENT, signer, noattr=noattr), DOCUMENT)
    assert result.signer_certificate == signer.certificate


@pytest.mark.parametrize("md", ["sha384", "sha512"])
@pytest.mark.parametrize("key", ["rsa2048", "p384"])
def test_sha384_and_sha512_digests_verify(pki, md, key):
    signature = openssl_cms_sign(DOCUMENT, pki.signer(key=key), md=md)
    assert cms.verify_detached(signature, DOCUMENT).digest_algorithm == md


@pytest.mark.parametrize("md", ["sha384", "sha512"])
def test_pss_with_other_digests_verifies(pki, md):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, md=md, pss=True)
    assert cms.verify_detached(signature, DOCUMENT).digest_algorithm == md


@pytest.mark.parametrize(("md", "key"), [("sha1", "rsa2048"), ("sha1", "p256"), ("md5", "rsa2048")])
def test_sha1_and_md5_are_refused(pki, md, key):
    signature = openssl_cms_sign(DOCUMENT, pki.signer(key=key), md=md)
    assert code_of(cms.verify_detached, signature, DOCUMENT) == "signature_algorithm_unsupported"


def test_pem_armour_is_accepted(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, pem=True)
    assert signature.startswith(b"-----BEGIN CMS-----")
    assert cms.verify_detached(signature, DOCUMENT).signer_certificate == pki.trader.certificate
    pkcs7 = signature.replace(b"BEGIN CMS", b"BEGIN PKCS7").replace(b"END CMS", b"END PKCS7")
    assert cms.verify_detached(pkcs7, DOCUMENT).signer_certificate == pki.trader.certificate


def test_the_signer_can_be_named_by_subject_key_identifier(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, keyid=True)
    sid = asn1_cms.ContentInfo.load(signature)["content"]["signer_infos"][0]["sid"]
    assert sid.name == "subject_key_identifier"
    assert cms.verify_detached(signature, DOCUMENT).signer_certificate == pki.trader.certificate
    assert cms.verify_detached(signature, DOCUMENT, certificate=pki.trader.certificate)


def test_an_attached_signature_verifies_when_it_carries_the_same_document(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, detached=False)
    assert cms.verify_detached(signature, DOCUMENT).signer_certificate == pki.trader.certificate
    assert code_of(cms.verify_detached, signature, b"another document") == "signature_digest_mismatch"


# --- the signer's certificate --------------------------------------------------------------------


def test_the_given_certificate_is_used_when_the_cms_carries_none(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, nocerts=True)
    assert code_of(cms.verify_detached, signature, DOCUMENT) == "signature_signer_unknown"
    result = cms.verify_detached(signature, DOCUMENT, certificate=pki.trader.certificate)
    assert result.signer_certificate == pki.trader.certificate
    assert result.certificates == []


def test_a_signature_by_another_certificate_is_from_an_unknown_signer(pki, signed):
    assert code_of(cms.verify_detached, signed, DOCUMENT, certificate=pki.broker.certificate) == (
        "signature_signer_unknown"
    )


def test_a_renewed_certificate_for_the_same_key_does_not_pass_for_the_old_one(pki):
    # A renewal is a new binding (DESIGN §7): the signature names the new certificate.
    renewed = pki.signer()
    signature = openssl_cms_sign(DOCUMENT, renewed, nocerts=True)
    assert code_of(cms.verify_detached, signature, DOCUMENT, certificate=pki.trader.certificate) == (
        "signature_signer_unknown"
    )


def test_a_carried_certificate_must_be_the_given_one_even_with_the_same_issuer_and_serial(pki):
    # Only a CA's mis-issuance makes two such certificates; neither may pass for the other.
    twin = pki.signer(company="Công ty Song Sinh", serial_number=pki.trader.certificate.serial_number)
    signature = openssl_cms_sign(DOCUMENT, twin)
    assert code_of(cms.verify_detached, signature, DOCUMENT, certificate=pki.trader.certificate) == (
        "signature_signer_unknown"
    )


def test_a_cms_carrying_only_other_certificates_is_from_an_unknown_signer(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, nocerts=True, certfile=[pki.broker.certificate])
    assert code_of(cms.verify_detached, signature, DOCUMENT) == "signature_signer_unknown"


def test_the_carried_chain_is_returned(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, certfile=[pki.intermediate.certificate])
    result = cms.verify_detached(signature, DOCUMENT)
    assert result.signer_certificate == pki.trader.certificate
    assert set(result.certificates) == {pki.trader.certificate, pki.intermediate.certificate}


def test_two_signers_are_refused(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, extra_signers=[pki.broker])
    assert code_of(cms.verify_detached, signature, DOCUMENT) == "signature_malformed"


# --- tampering -----------------------------------------------------------------------------------


def test_a_signature_over_another_content_type_is_malformed(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, econtent_type="1.2.840.113549.1.9.16.1.4")
    assert code_of(cms.verify_detached, signature, DOCUMENT) == "signature_malformed"


def test_a_content_type_attribute_other_than_data_is_malformed(signed):
    data_oid = bytes.fromhex("06092a864886f70d010701")  # 1.2.840.113549.1.7.1, id-data
    attribute = bytes.fromhex("06092a864886f70d010903310b") + data_oid  # contentType SET { id-data }
    assert signed.count(attribute) == 1
    tampered = signed.replace(attribute, attribute[:-1] + b"\x02")  # id-signedData
    assert code_of(cms.verify_detached, tampered, DOCUMENT) == "signature_malformed"


def with_signature_algorithm(signature: bytes, algorithm: str) -> bytes:
    """``signature`` with another signatureAlgorithm OID, the rest re-encoded as it was (DER)."""
    content_info = asn1_cms.ContentInfo.load(signature)
    content_info["content"]["signer_infos"][0]["signature_algorithm"] = {"algorithm": algorithm}
    return content_info.dump(force=True)


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        ("rsa2048", "rsassa_pkcs1v15"),  # what openssl writes
        ("rsa2048", "sha256_rsa"),  # sha256WithRSAEncryption, as some tools write
        ("p256", "sha256_ecdsa"),  # what openssl writes
        ("p256", "1.2.840.10045.2.1"),  # id-ecPublicKey, as some tools write
    ],
)
def test_both_ways_of_naming_the_signature_algorithm_verify(pki, key, algorithm):
    signer = pki.signer(key=key)
    signature = with_signature_algorithm(openssl_cms_sign(DOCUMENT, signer), algorithm)
    assert cms.verify_detached(signature, DOCUMENT).signer_certificate == signer.certificate


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        ("p256", "sha384_ecdsa"),  # another hash than the digest algorithm
        ("rsa2048", "sha512_rsa"),
        ("p256", "sha256_rsa"),  # does not fit the key
        ("rsa2048", "sha256_ecdsa"),
        ("rsa2048", "sha1_rsa"),
        ("p256", "ed25519"),
    ],
)
def test_a_signature_algorithm_that_contradicts_the_digest_or_the_key_is_refused(pki, key, algorithm):
    signature = with_signature_algorithm(openssl_cms_sign(DOCUMENT, pki.signer(key=key)), algorithm)
    assert code_of(cms.verify_detached, signature, DOCUMENT) == "signature_algorithm_unsupported"


def test_changed_content_is_a_digest_mismatch(signed):
    assert code_of(cms.verify_detached, signed, DOCUMENT + b" ") == "signature_digest_mismatch"


def test_changed_content_without_signed_attributes_is_an_invalid_signature(pki):
    signature = openssl_cms_sign(DOCUMENT, pki.trader, noattr=True)
    assert code_of(cms.verify_detached, signature, DOCUMENT + b" ") == "signature_invalid"


def flip_last_signature_byte(signature: bytes) -> bytes:
    signer_info = asn1_cms.ContentInfo.load(signature)["content"]["signer_infos"][0]
    # openssl writes no unsigned attributes, so the signature value ends the whole structure.
    assert signature.endswith(signer_info["signature"].native)
    return signature[:-1] + bytes([signature[-1] ^ 0x01])


@pytest.mark.parametrize("key", ["rsa2048", "p256"])
@pytest.mark.parametrize("noattr", [False, True], ids=["signed attributes", "no attributes"])
def test_a_changed_signature_value_is_invalid(pki, key, noattr):
    signature = openssl_cms_sign(DOCUMENT, pki.signer(key=key), noattr=noattr)
    assert code_of(cms.verify_detached, flip_last_signature_byte(signature), DOCUMENT) == "signature_invalid"


def test_the_signature_covers_the_signed_attributes(signed):
    signer_info = asn1_cms.ContentInfo.load(signed)["content"]["signer_infos"][0]
    signing_time = next(a for a in signer_info["signed_attrs"] if a["type"].native == "signing_time")
    encoded = signing_time["values"][0].dump()
    later = encoded[:-2] + bytes([encoded[-2] ^ 0x01]) + encoded[-1:]  # one second off, still a time
    assert signed.count(encoded) == 1
    assert code_of(cms.verify_detached, signed.replace(encoded, later), DOCUMENT) == "signature_invalid"


# --- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\x30\x00",
        b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    ],
)
def test_garbage_is_malformed(data):
    assert code_of(cms.verify_detached, data, DOCUMENT) == "signature_malformed"


def test_a_certificate_is_not_a_signature(pki):
    assert code_of(cms.verify_detached, pki.trader.cert_der, DOCUMENT) == "signature_malformed"


def test_a_truncated_signature_is_malformed(signed):
    assert code_of(cms.verify_detached, signed[:-20], DOCUMENT) == "signature_malformed"


def test_trailing_bytes_are_malformed(signed):
    assert code_of(cms.verify_detached, signed + b"\x00", DOCUMENT) == "signature_malformed"


# --- bounds: what a signature can make the server parse (issue "Hardening", finding 2) ----------


def test_a_signature_over_the_size_bound_is_refused_before_parsing(signed):
    assert (
        code_of(cms.verify_detached, signed + b"\x00" * cms.MAX_CMS_BYTES, DOCUMENT) == "signature_too_large"
    )
    pem = b"-----BEGIN CMS-----\n" + base64.encodebytes(signed * 100) + b"-----END CMS-----\n"
    assert len(pem) > cms.MAX_CMS_BYTES
    assert code_of(cms.verify_detached, pem, DOCUMENT) == "signature_too_large"  # as sent, not decoded


def test_the_reviews_signature_of_3900_certificates_is_too_large(pki, signed):
    hostile = hostile_cms.many_certificates(signed, pki.trader.cert_der, 3900)
    assert len(hostile) > 900_000
    assert code_of(cms.verify_detached, hostile, DOCUMENT) == "signature_too_large"


def test_a_chain_up_to_the_certificate_bound_verifies(pki, signed):
    carried = hostile_cms.many_certificates(signed, pki.trader.cert_der, cms.MAX_CMS_CERTIFICATES - 1)
    result = cms.verify_detached(carried, DOCUMENT)
    assert len(result.certificates) == cms.MAX_CMS_CERTIFICATES
    one_more = hostile_cms.many_certificates(signed, pki.trader.cert_der, cms.MAX_CMS_CERTIFICATES)
    assert code_of(cms.verify_detached, one_more, DOCUMENT) == "signature_malformed"


@pytest.mark.parametrize(
    "make",
    [
        hostile_cms.tiny_elements_in_certificates,
        hostile_cms.tiny_elements_in_signer_infos,
        hostile_cms.tiny_signed_attributes,
        hostile_cms.many_values_in_an_attribute,
        hostile_cms.tiny_elements_after_signed_data,
        hostile_cms.deeply_nested_certificate,
    ],
)
def test_thousands_of_elements_or_levels_within_the_size_bound_are_malformed(signed, make):
    hostile = make(signed, cms.MAX_CMS_BYTES)
    assert cms.MAX_CMS_BYTES - 2048 < len(hostile) <= cms.MAX_CMS_BYTES
    assert code_of(cms.verify_detached, hostile, DOCUMENT) == "signature_malformed"


def test_a_deeply_nested_unknown_attribute_is_never_parsed(signed):
    # Within the size bound, 16,000 levels the parser never enters: the signature check fails on
    # the changed attributes, as it does for any tampering.
    hostile = hostile_cms.deeply_nested_attribute(signed, cms.MAX_CMS_BYTES)
    assert len(hostile) > cms.MAX_CMS_BYTES - 2048
    assert code_of(cms.verify_detached, hostile, DOCUMENT) == "signature_invalid"


@pytest.mark.filterwarnings("ignore::UserWarning")  # cryptography's, on odd names and serials
@settings(max_examples=examples(200))
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_raise_anything_but_a_signature_error(pki, data):
    for verify, arguments in (
        (cms.verify_detached, (data, DOCUMENT)),
        (cms.verify_proof_of_possession, (pki.trader.certificate, data, CHALLENGE)),
    ):
        try:
            verify(*arguments)
        except SignatureError as error:
            assert error.code in ERROR_CODES  # a documented refusal, never a crash


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=examples(300))
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_a_corrupted_signature_verifies_or_raises_a_signature_error(pki, signed, position, flip):
    corrupted = bytearray(signed)
    corrupted[position % len(corrupted)] ^= flip
    try:
        result = cms.verify_detached(bytes(corrupted), DOCUMENT)
    except SignatureError as error:
        assert error.code in ERROR_CODES
    else:
        # Only a byte outside what was signed can change (a certificate's own signature, say):
        # whatever still verifies was signed with the trader's key.
        assert result.signer_certificate.public_key() == pki.trader.certificate.public_key()


# --- signing time --------------------------------------------------------------------------------


def test_a_signing_time_after_the_certificate_expired_is_refused(pki):
    now = datetime.datetime.now(datetime.UTC)
    expired = pki.signer(not_before=now - 30 * DAY, not_after=now - DAY)
    signature = openssl_cms_sign(DOCUMENT, expired)  # openssl signs with an expired certificate
    assert code_of(cms.verify_detached, signature, DOCUMENT) == "signature_time_outside_validity"


def test_a_signing_time_before_the_certificate_was_valid_is_refused(pki):
    now = datetime.datetime.now(datetime.UTC)
    future = pki.signer(not_before=now + DAY, not_after=now + 30 * DAY)
    signature = openssl_cms_sign(DOCUMENT, future)
    assert code_of(cms.verify_detached, signature, DOCUMENT) == "signature_time_outside_validity"


def test_without_a_signing_time_the_certificate_validity_is_left_to_the_caller(pki):
    now = datetime.datetime.now(datetime.UTC)
    expired = pki.signer(not_before=now - 30 * DAY, not_after=now - DAY)
    assert (
        cms.verify_detached(openssl_cms_sign(DOCUMENT, expired, noattr=True), DOCUMENT).signing_time is None
    )


# --- proof of possession -------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["rsa2048", "rsa3072", "p256", "p384"])
@pytest.mark.parametrize("md", ["sha256", "sha384", "sha512"])
def test_a_raw_signature_proves_possession(pki, key, md):
    signer = pki.signer(key=key)
    proof = openssl_dgst_sign(CHALLENGE, signer, md=md)
    cms.verify_raw_signature(signer.certificate, proof, CHALLENGE)
    cms.verify_proof_of_possession(signer.certificate, proof, CHALLENGE)
    # It proves possession for this challenge only, so the checks above really looked.
    assert (
        code_of(cms.verify_proof_of_possession, signer.certificate, proof, b"another") == "signature_invalid"
    )


@pytest.mark.parametrize("key", ["rsa2048", "p256"])
def test_a_raw_signature_by_another_key_proves_nothing(pki, key):
    proof = openssl_dgst_sign(CHALLENGE, pki.signer(key=key, slot=1))
    certificate = pki.signer(key=key).certificate
    assert code_of(cms.verify_proof_of_possession, certificate, proof, CHALLENGE) == "signature_invalid"


def test_a_raw_signature_over_another_challenge_proves_nothing(pki):
    proof = openssl_dgst_sign(b"an old challenge", pki.trader)
    assert (
        code_of(cms.verify_proof_of_possession, pki.trader.certificate, proof, CHALLENGE)
        == "signature_invalid"
    )


def test_a_raw_sha1_signature_is_not_accepted(pki):
    proof = openssl_dgst_sign(CHALLENGE, pki.trader, md="sha1")
    assert code_of(cms.verify_raw_signature, pki.trader.certificate, proof, CHALLENGE) == "signature_invalid"


def test_a_raw_pss_signature_is_not_accepted(pki):
    # verify_raw_signature reads what `openssl dgst -sign` makes by default: PKCS#1 v1.5.
    pss = pki.trader.key.sign(CHALLENGE, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    assert code_of(cms.verify_raw_signature, pki.trader.certificate, pss, CHALLENGE) == "signature_invalid"


@pytest.mark.parametrize("detached", [True, False], ids=["detached", "attached"])
@pytest.mark.parametrize("key", ["rsa2048", "p256"])
def test_a_cms_proves_possession(pki, detached, key):
    signer = pki.signer(key=key)
    proof = openssl_cms_sign(CHALLENGE, signer, detached=detached)
    cms.verify_proof_of_possession(signer.certificate, proof, CHALLENGE)
    # It proves possession for this challenge only, so the check above really looked.
    assert (
        code_of(cms.verify_proof_of_possession, signer.certificate, proof, b"another")
        == "signature_digest_mismatch"
    )


def test_a_cms_by_another_certificate_proves_nothing(pki):
    proof = openssl_cms_sign(CHALLENGE, pki.broker)
    assert code_of(cms.verify_proof_of_possession, pki.trader.certificate, proof, CHALLENGE) == (
        "signature_signer_unknown"
    )


def test_a_cms_over_another_challenge_proves_nothing(pki):
    proof = openssl_cms_sign(b"an old challenge", pki.trader)
    assert code_of(cms.verify_proof_of_possession, pki.trader.certificate, proof, CHALLENGE) == (
        "signature_digest_mismatch"
    )


def test_an_ecdsa_raw_signature_is_der_yet_not_taken_for_a_cms(pki):
    signer = pki.signer(key="p256")
    proof = signer.key.sign(CHALLENGE, ec.ECDSA(hashes.SHA256()))
    assert proof[0] == 0x30
    cms.verify_proof_of_possession(signer.certificate, proof, CHALLENGE)
