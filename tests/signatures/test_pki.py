from __future__ import annotations

import contextlib
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from hypothesis import given
from hypothesis import strategies as st

from signatures import pki as checks
from signatures.pki import CertificateError
from tests.signatures.pki_factory import (
    BROKER_TAX_CODE,
    TAX_CODE,
    Identity,
    issue,
    key_usage,
    make_crl,
    private_key,
    resign_with_weak_hash,
    vn_subject,
)

DAY = datetime.timedelta(days=1)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def code_of(check, *args, **kwargs) -> str:
    with pytest.raises(CertificateError) as caught:
        check(*args, **kwargs)
    return caught.value.code


# --- loading -------------------------------------------------------------------------------------


def test_it_loads_a_certificate_in_pem_and_in_der(pki):
    identity = pki.trader
    assert checks.load_certificate(identity.cert_pem) == identity.certificate
    assert checks.load_certificate(identity.cert_der) == identity.certificate


def test_it_loads_pem_after_a_text_dump_as_in_a_crt_file(pki):
    text = b"Certificate:\n    Data: ...\n" + pki.trader.cert_pem
    assert checks.load_certificate(text) == pki.trader.certificate


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a certificate",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"\x30\x03\x02\x01\x01",
    ],
)
def test_it_refuses_garbage_as_a_malformed_certificate(data):
    assert code_of(checks.load_certificate, data) == "certificate_malformed"


def test_it_refuses_a_truncated_certificate(pki):
    assert code_of(checks.load_certificate, pki.trader.cert_der[:-10]) == "certificate_malformed"


def test_it_refuses_an_oversized_certificate_file_before_parsing_it(pki):
    padded = pki.trader.cert_pem + b"\n" * checks.MAX_CERTIFICATE_BYTES
    assert code_of(checks.load_certificate, padded) == "certificate_malformed"


def test_it_loads_a_crl_in_pem_and_in_der(pki):
    crl = make_crl(pki.intermediate)
    assert checks.load_crl(crl.public_bytes(serialization.Encoding.PEM)) == crl
    assert checks.load_crl(crl.public_bytes(serialization.Encoding.DER)) == crl


@pytest.mark.parametrize(
    "data", [b"", b"garbage", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"]
)
def test_it_refuses_garbage_as_a_malformed_crl(data):
    assert code_of(checks.load_crl, data) == "crl_malformed"


def test_a_certificate_is_not_mistaken_for_a_crl(pki):
    assert code_of(checks.load_crl, pki.trader.cert_der) == "crl_malformed"


@pytest.mark.filterwarnings("ignore::UserWarning")  # cryptography's, on odd names and serials
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise_anything_but_a_certificate_error(data):
    for load, code in (
        (checks.load_certificate, "certificate_malformed"),
        (checks.load_crl, "crl_malformed"),
    ):
        try:
            load(data)
        except CertificateError as error:
            assert error.code == code


@pytest.mark.filterwarnings("ignore::UserWarning")
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_a_corrupted_certificate_loads_or_is_refused_as_malformed(pki, position, flip):
    der = bytearray(pki.trader.cert_der)
    der[position % len(der)] ^= flip
    try:
        checks.load_certificate(bytes(der))
    except CertificateError as error:
        assert error.code == "certificate_malformed"


@pytest.mark.filterwarnings("ignore::UserWarning")
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_a_corrupted_crl_loads_or_is_refused_as_malformed(pki, position, flip):
    der = bytearray(
        make_crl(pki.intermediate, revoked=[pki.broker.certificate]).public_bytes(serialization.Encoding.DER)
    )
    der[position % len(der)] ^= flip
    try:
        crl = checks.load_crl(bytes(der))
    except CertificateError as error:
        assert error.code == "crl_malformed"
    else:
        with contextlib.suppress(CertificateError):
            checks.check_revocation(pki.trader.certificate, pki.intermediate.certificate, crl, now())


# --- one certificate at a time -------------------------------------------------------------------


def test_a_ca_certificate_is_not_an_end_entity(pki):
    assert checks.is_ca_certificate(pki.intermediate.certificate)
    assert code_of(checks.check_end_entity, pki.intermediate.certificate) == "certificate_not_end_entity"
    checks.check_end_entity(pki.trader.certificate)


@pytest.mark.parametrize("key", ["rsa2048", "rsa3072", "p256", "p384"])
def test_it_accepts_rsa_2048_and_up_and_ec_p256_and_p384(pki, key):
    certificate = pki.signer(key=key).certificate
    assert certificate.public_key().key_size == int(key.removeprefix("rsa").removeprefix("p"))
    checks.check_algorithm_policy(certificate)  # raises CertificateError when refused


@pytest.mark.parametrize("key", ["rsa1024", "p521"])
def test_it_refuses_a_short_rsa_key_and_curves_other_than_p256_and_p384(pki, key):
    assert (
        code_of(checks.check_algorithm_policy, pki.signer(key=key).certificate)
        == "certificate_weak_algorithm"
    )


@pytest.mark.parametrize("hash_algorithm", [hashes.SHA384(), hashes.SHA512()])
def test_it_accepts_sha384_and_sha512_signatures(pki, hash_algorithm):
    certificate = pki.signer(hash_algorithm=hash_algorithm).certificate
    assert certificate.signature_hash_algorithm.name == hash_algorithm.name
    checks.check_algorithm_policy(certificate)  # raises CertificateError when refused


@pytest.mark.parametrize("hash_name", ["sha1", "md5"])
def test_it_refuses_a_certificate_signed_with_sha1_or_md5(pki, hash_name):
    weak = resign_with_weak_hash(pki.trader.certificate, pki.intermediate.key, hash_name)
    assert weak.signature_hash_algorithm.name == hash_name
    assert code_of(checks.check_algorithm_policy, weak) == "certificate_weak_algorithm"


def test_it_refuses_an_ecdsa_sha1_certificate(pki):
    ec_ca = pki.ca("EC CA", issuer=pki.root, key="p256")
    weak = resign_with_weak_hash(pki.signer(issuer=ec_ca).certificate, ec_ca.key, "sha1")
    assert code_of(checks.check_algorithm_policy, weak) == "certificate_weak_algorithm"


@pytest.mark.parametrize(
    "usage",
    [
        key_usage(digital_signature=True),
        key_usage(content_commitment=True),
    ],
    ids=["digitalSignature", "nonRepudiation"],
)
def test_it_accepts_digital_signature_or_non_repudiation(pki, usage):
    certificate = pki.signer(usage=usage).certificate
    assert certificate.extensions.get_extension_for_class(x509.KeyUsage).value == usage
    checks.check_key_usage(certificate)  # raises CertificateError when refused


@pytest.mark.parametrize(
    "usage",
    [None, key_usage(key_cert_sign=True, crl_sign=True)],
    ids=["no keyUsage", "keyCertSign only"],
)
def test_it_refuses_a_certificate_that_may_not_sign(pki, usage):
    assert code_of(checks.check_key_usage, pki.signer(usage=usage).certificate) == "certificate_key_usage"


def test_validity_has_both_ends(pki):
    cert = pki.signer(not_before=now() + DAY, not_after=now() + 10 * DAY).certificate
    assert code_of(checks.check_validity, cert, now()) == "certificate_not_yet_valid"
    assert code_of(checks.check_validity, cert, now() + 11 * DAY) == "certificate_expired"
    checks.check_validity(cert, now() + 2 * DAY)


def test_an_expired_certificate_is_refused(pki):
    cert = pki.signer(not_before=now() - 10 * DAY, not_after=now() - DAY).certificate
    assert code_of(checks.check_validity, cert, now()) == "certificate_expired"


def test_a_naive_time_is_a_programming_error(pki):
    with pytest.raises(ValueError, match="timezone-aware"):
        checks.check_validity(pki.trader.certificate, datetime.datetime.now())  # noqa: DTZ005


# --- the chain -----------------------------------------------------------------------------------


def test_it_builds_the_chain_through_an_intermediate_to_a_trusted_root(pki):
    chain = checks.build_chain(
        pki.trader.certificate, [pki.root.certificate], [pki.intermediate.certificate], at=now()
    )
    assert chain == [pki.trader.certificate, pki.intermediate.certificate, pki.root.certificate]


def test_a_trusted_intermediate_is_a_trust_anchor_on_its_own(pki):
    chain = checks.build_chain(pki.trader.certificate, [pki.intermediate.certificate], at=now())
    assert chain == [pki.trader.certificate, pki.intermediate.certificate]


def test_a_certificate_issued_by_a_trusted_root_directly(pki):
    cert = pki.signer(issuer=pki.root).certificate
    assert checks.build_chain(cert, [pki.root.certificate], at=now()) == [cert, pki.root.certificate]


def test_a_signing_certificate_without_san_or_eku_chains(pki):
    # Vietnamese signing certificates carry neither; the web PKI defaults would demand a SAN.
    extensions = {ext.oid for ext in pki.trader.certificate.extensions}
    assert x509.ExtensionOID.SUBJECT_ALTERNATIVE_NAME not in extensions
    assert x509.ExtensionOID.EXTENDED_KEY_USAGE not in extensions
    checks.build_chain(pki.trader.certificate, [pki.intermediate.certificate], at=now())


def test_a_ca_without_key_usage_is_still_an_issuer(pki):
    ca = pki.ca("Old-style CA", issuer=pki.root, usage=None)
    cert = pki.signer(issuer=ca).certificate
    assert checks.build_chain(cert, [pki.root.certificate], [ca.certificate], at=now())[1] == ca.certificate


@pytest.mark.parametrize(
    ("trusted", "intermediates"),
    [
        pytest.param(["root"], [], id="intermediate missing"),
        pytest.param(["other_root"], ["intermediate"], id="another root"),
        pytest.param([], ["intermediate"], id="nothing trusted"),
    ],
)
def test_a_certificate_that_does_not_reach_a_trusted_issuer_is_untrusted(pki, trusted, intermediates):
    trusted = [getattr(pki, name).certificate for name in trusted]
    intermediates = [getattr(pki, name).certificate for name in intermediates]
    assert code_of(checks.build_chain, pki.trader.certificate, trusted, intermediates, at=now()) == (
        "certificate_untrusted"
    )


def test_a_root_impostor_with_the_same_name_is_untrusted(pki):
    impostor = issue(pki.root.certificate.subject, private_key("rsa2048", 7), ca=True)
    code = code_of(
        checks.build_chain, pki.trader.certificate, [impostor], [pki.intermediate.certificate], at=now()
    )
    assert code == "certificate_untrusted"


def test_an_expired_intermediate_breaks_the_chain(pki):
    expired = pki.ca("Expired CA", issuer=pki.root, not_before=now() - 30 * DAY, not_after=now() - DAY)
    cert = pki.signer(issuer=expired).certificate
    assert code_of(checks.build_chain, cert, [pki.root.certificate], [expired.certificate], at=now()) == (
        "certificate_untrusted"
    )
    assert code_of(checks.build_chain, cert, [expired.certificate], at=now()) == "certificate_untrusted"


def test_an_intermediate_that_is_not_a_ca_cannot_issue(pki):
    not_a_ca = Identity(pki.signer(company="Not a CA", slot=3).certificate, private_key("rsa2048", 3))
    cert = pki.signer(issuer=not_a_ca).certificate
    for trusted, intermediates in (([pki.intermediate], [not_a_ca]), ([not_a_ca], [])):
        code = code_of(
            checks.build_chain,
            cert,
            [t.certificate for t in trusted],
            [i.certificate for i in intermediates],
            at=now(),
        )
        assert code == "certificate_untrusted"


def test_a_ca_whose_key_usage_excludes_certificate_signing_cannot_issue(pki):
    ca = pki.ca("CRL-only CA", issuer=pki.root, usage=key_usage(crl_sign=True))
    cert = pki.signer(issuer=ca).certificate
    assert code_of(checks.build_chain, cert, [pki.root.certificate], [ca.certificate], at=now()) == (
        "certificate_untrusted"
    )


def test_an_intermediate_signed_with_sha1_breaks_the_chain(pki):
    weak = resign_with_weak_hash(pki.intermediate.certificate, pki.root.key, "sha1")
    assert code_of(checks.build_chain, pki.trader.certificate, [pki.root.certificate], [weak], at=now()) == (
        "certificate_untrusted"
    )


def test_an_issuer_with_a_p521_key_is_refused_by_our_policy(pki):
    ca = pki.ca("P-521 CA", issuer=pki.root, key="p521")
    cert = pki.signer(issuer=ca).certificate
    assert code_of(checks.build_chain, cert, [ca.certificate], at=now()) == "certificate_weak_algorithm"


def test_a_leaf_in_the_trusted_list_does_not_trust_itself(pki):
    assert code_of(checks.build_chain, pki.trader.certificate, [pki.trader.certificate], at=now()) == (
        "certificate_untrusted"
    )


# --- revocation ----------------------------------------------------------------------------------


def test_a_certificate_not_on_a_fresh_crl_is_not_revoked(pki):
    status = checks.check_revocation(
        pki.trader.certificate, pki.intermediate.certificate, make_crl(pki.intermediate), now()
    )
    assert status.stale is False


def test_a_listed_certificate_is_revoked_with_its_date_and_reason(pki):
    crl = make_crl(pki.intermediate, revoked=[pki.broker.certificate, pki.trader.certificate])
    with pytest.raises(checks.CertificateRevokedError) as caught:
        checks.check_revocation(pki.trader.certificate, pki.intermediate.certificate, crl, now())
    assert caught.value.code == "certificate_revoked"
    assert caught.value.reason == "keyCompromise"
    assert now() - datetime.timedelta(hours=1) < caught.value.revoked_at < now()
    assert "keyCompromise" in caught.value.message


def test_a_listing_without_a_reason_is_still_a_revocation(pki):
    crl = make_crl(pki.intermediate, revoked=[pki.trader.certificate], reason=None)
    with pytest.raises(checks.CertificateRevokedError) as caught:
        checks.check_revocation(pki.trader.certificate, pki.intermediate.certificate, crl, now())
    assert caught.value.reason is None


def test_a_crl_past_its_next_update_is_stale_but_still_answers(pki):
    stale = make_crl(pki.intermediate, last_update=now() - 10 * DAY, next_update=now() - DAY)
    status = checks.check_revocation(pki.trader.certificate, pki.intermediate.certificate, stale, now())
    assert status.stale is True
    assert status.crl_next_update == stale.next_update_utc


def test_a_stale_crl_still_revokes(pki):
    stale = make_crl(
        pki.intermediate,
        revoked=[pki.trader.certificate],
        last_update=now() - 2 * DAY,
        next_update=now() - DAY,
    )
    code = code_of(
        checks.check_revocation, pki.trader.certificate, pki.intermediate.certificate, stale, now()
    )
    assert code == "certificate_revoked"


def test_a_crl_forged_with_another_key_is_invalid(pki):
    forged = make_crl(pki.intermediate, signing_key=private_key("rsa2048", 7))
    code = code_of(
        checks.check_revocation, pki.trader.certificate, pki.intermediate.certificate, forged, now()
    )
    assert code == "crl_invalid"


def test_another_issuers_crl_is_invalid_for_this_certificate(pki):
    crl = make_crl(pki.root)
    code = code_of(checks.check_revocation, pki.trader.certificate, pki.intermediate.certificate, crl, now())
    assert code == "crl_invalid"


def test_a_crl_naming_another_issuer_is_invalid_even_when_signed_with_this_issuers_key(pki):
    crl = make_crl(Identity(pki.root.certificate, pki.intermediate.key))
    assert crl.is_signature_valid(pki.intermediate.key.public_key())
    code = code_of(checks.check_revocation, pki.trader.certificate, pki.intermediate.certificate, crl, now())
    assert code == "crl_invalid"


def test_a_crl_from_an_issuer_not_allowed_to_sign_crls_is_invalid(pki):
    ca = pki.ca("No CRL CA", issuer=pki.root, usage=key_usage(key_cert_sign=True))
    cert = pki.signer(issuer=ca).certificate
    assert code_of(checks.check_revocation, cert, ca.certificate, make_crl(ca), now()) == "crl_invalid"


def test_a_delta_crl_alone_is_invalid(pki):
    delta = make_crl(pki.intermediate, delta=True)
    code = code_of(
        checks.check_revocation, pki.trader.certificate, pki.intermediate.certificate, delta, now()
    )
    assert code == "crl_invalid"


# --- everything together -------------------------------------------------------------------------


def validate(pki, cert, *, trusted=None, crls=(), at=None):
    trusted = trusted or [pki.root]
    return checks.validate_signing_certificate(
        cert,
        [t.certificate for t in trusted],
        {checks.fingerprint_sha256(issuer.certificate): crl for issuer, crl in crls},
        at or now(),
        [pki.intermediate.certificate],
    )


def test_a_good_certificate_validates_with_its_chain_and_issuer(pki):
    result = validate(pki, pki.trader.certificate, crls=[(pki.intermediate, make_crl(pki.intermediate))])
    assert result.chain == [pki.trader.certificate, pki.intermediate.certificate, pki.root.certificate]
    assert result.issuer == pki.intermediate.certificate
    assert (result.crl_missing, result.crl_stale) == (False, False)


def test_an_unknown_crl_is_reported_not_refused(pki):
    result = validate(pki, pki.trader.certificate)
    assert result.crl_missing is True


def test_a_stale_crl_is_reported_not_refused(pki):
    stale = make_crl(pki.intermediate, next_update=now() - DAY, last_update=now() - 2 * DAY)
    result = validate(pki, pki.trader.certificate, crls=[(pki.intermediate, stale)])
    assert (result.crl_missing, result.crl_stale) == (False, True)


def test_a_stale_crl_of_the_signers_issuer_is_reported_even_when_the_roots_is_fresh(pki):
    stale = make_crl(pki.intermediate, next_update=now() - DAY, last_update=now() - 2 * DAY)
    crls = [(pki.intermediate, stale), (pki.root, make_crl(pki.root))]
    assert validate(pki, pki.trader.certificate, crls=crls).crl_stale is True


def test_a_revoked_certificate_fails_validation(pki):
    crl = make_crl(pki.intermediate, revoked=[pki.trader.certificate])
    assert (
        code_of(validate, pki, pki.trader.certificate, crls=[(pki.intermediate, crl)])
        == "certificate_revoked"
    )


def test_a_revoked_intermediate_fails_validation_when_the_roots_crl_is_known(pki):
    root_crl = make_crl(pki.root, revoked=[pki.intermediate.certificate])
    assert (
        code_of(validate, pki, pki.trader.certificate, crls=[(pki.root, root_crl)]) == "certificate_revoked"
    )


def test_a_forged_crl_fails_validation(pki):
    forged = make_crl(pki.intermediate, signing_key=private_key("rsa2048", 7))
    assert code_of(validate, pki, pki.trader.certificate, crls=[(pki.intermediate, forged)]) == "crl_invalid"


def test_validation_through_a_trusted_intermediate_uses_its_crl(pki):
    crl = make_crl(pki.intermediate, revoked=[pki.trader.certificate])
    code = code_of(
        validate, pki, pki.trader.certificate, trusted=[pki.intermediate], crls=[(pki.intermediate, crl)]
    )
    assert code == "certificate_revoked"


@pytest.mark.parametrize(
    ("knobs", "code"),
    [
        ({"ca": True, "key": "rsa1024", "usage": None}, "certificate_not_end_entity"),
        ({"key": "rsa1024", "usage": None, "not_after": now() - DAY}, "certificate_weak_algorithm"),
        ({"usage": None, "not_after": now() - DAY}, "certificate_key_usage"),
        ({"issuer_is_other_root": True, "not_after": now() - DAY}, "certificate_expired"),
        ({"issuer_is_other_root": True}, "certificate_untrusted"),
    ],
)
def test_checks_run_in_a_fixed_order(pki, knobs, code):
    if knobs.pop("issuer_is_other_root", False):
        knobs["issuer"] = pki.other_root
    if "not_after" in knobs:
        knobs["not_before"] = now() - 30 * DAY
    assert code_of(validate, pki, pki.signer(**knobs).certificate) == code


# --- who the certificate names -------------------------------------------------------------------


def test_it_reads_the_tax_code_and_common_name(pki):
    assert checks.subject_tax_code(pki.trader.certificate) == TAX_CODE
    assert checks.subject_tax_code(pki.broker.certificate) == BROKER_TAX_CODE
    assert checks.subject_common_name(pki.trader.certificate) == "Công ty TNHH Hòa Bình"
    assert checks.subject_citizen_id(pki.trader.certificate) is None


def test_a_branch_tax_code_keeps_its_suffix(pki):
    assert checks.subject_tax_code(pki.signer(tax_code="0100686209-001").certificate) == "0100686209-001"
    assert checks.subject_tax_code(pki.signer(tax_code="0100686209199").certificate) == "0100686209-199"


def test_it_reads_the_tax_code_and_the_citizen_id_from_two_uids(pki):
    cert = pki.signer(citizen_id="001203004567").certificate
    assert len(cert.subject.get_attributes_for_oid(x509.NameOID.USER_ID)) == 2
    assert checks.subject_tax_code(cert) == TAX_CODE
    assert checks.subject_citizen_id(cert) == "001203004567"


def test_a_personal_certificate_has_no_tax_code(pki):
    cert = pki.signer(tax_code=None, citizen_id="001203004567", company="Nguyễn Văn An").certificate
    assert checks.subject_tax_code(cert) is None
    assert checks.subject_citizen_id(cert) == "001203004567"


@pytest.mark.parametrize(
    ("uid", "expected"),
    [
        ("mst: 0100686209", TAX_CODE),
        ("MST:0100686208", None),  # wrong check digit
        ("MST:0100686209-000", None),  # branch 000 does not exist
        ("MNS:0100686209", None),  # a budget-relationship code, not a tax code
        ("0100686209", None),
    ],
)
def test_tax_code_parsing(uid, expected):
    key = private_key("p256")
    subject = x509.Name([x509.NameAttribute(x509.NameOID.USER_ID, uid)])
    assert checks.subject_tax_code(issue(subject, key)) == expected


def test_a_citizen_id_must_have_twelve_digits():
    subject = vn_subject("Nguyễn Văn An", citizen_id="12345")
    assert checks.subject_citizen_id(issue(subject, private_key("p256"))) is None


def test_the_fingerprint_is_the_sha256_of_the_der(pki):
    assert (
        checks.fingerprint_sha256(pki.trader.certificate) == hashlib.sha256(pki.trader.cert_der).hexdigest()
    )
