"""Checks on X.509 signing certificates and CRLs (DESIGN §5 rule 1, §7), with no database.

Every refusal is a ``CertificateError`` with a stable ``code``; callers map the code to the API's
JSON error or a portal message. Path building is ``cryptography``'s verifier, not ours.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from stdnum.vn import mst

MAX_CERTIFICATE_BYTES = 64 * 1024
# Issuers' full CRLs run to several megabytes once they list years of revocations.
MAX_CRL_BYTES = 32 * 1024 * 1024
MIN_RSA_BITS = 2048
ALLOWED_CURVES = (ec.SECP256R1, ec.SECP384R1)
ALLOWED_SIGNATURE_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


class CertificateError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class CertificateRevokedError(CertificateError):
    def __init__(self, cert: x509.Certificate, revoked_at: datetime.datetime, reason: str | None):
        # The subject is named because the revoked certificate may be an intermediate CA's.
        super().__init__(
            "certificate_revoked",
            f"The certificate {cert.subject.rfc4514_string()} (serial {cert.serial_number:x}) was revoked"
            f" on {revoked_at:%Y-%m-%d %H:%M} UTC" + (f" ({reason})." if reason else "."),
        )
        self.revoked_at = revoked_at
        self.reason = reason


@dataclass(frozen=True)
class RevocationStatus:
    crl_this_update: datetime.datetime
    crl_next_update: datetime.datetime | None
    # The issuer has published a newer CRL by now: the caller warns, it does not refuse.
    stale: bool


@dataclass(frozen=True)
class ValidationResult:
    certificate: x509.Certificate
    chain: list[x509.Certificate]  # leaf first, ending at the trusted certificate
    issuer: x509.Certificate
    crl_stale: bool
    crl_missing: bool


# --- loading -------------------------------------------------------------------------------------


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from PEM or DER (``.cer`` and ``.crt`` files are one or the other)."""
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise CertificateError("certificate_malformed", "The certificate file is too large.")
    try:
        load = x509.load_pem_x509_certificate if b"-----BEGIN" in data else x509.load_der_x509_certificate
        cert = load(data)
        # cryptography parses these lazily; touch them now so a bad encoding fails here, not
        # halfway through a later check with an unrelated error code.
        cert.subject, cert.issuer, cert.extensions  # noqa: B018
    except (ValueError, TypeError, x509.InvalidVersion, x509.DuplicateExtension):
        raise CertificateError(
            "certificate_malformed", "This is not an X.509 certificate in PEM or DER form."
        ) from None
    return cert


# What a private key file is, read as a structure only (nothing decrypted): PKCS#8 plain and
# encrypted, PKCS#1 (RSA) and SEC1 (EC) "traditional" keys, and PKCS#12 (.p12/.pfx) bundles.
_PRIVATE_KEY_STRUCTURES = (
    asn1_keys.PrivateKeyInfo,
    asn1_keys.EncryptedPrivateKeyInfo,
    asn1_keys.RSAPrivateKey,
    asn1_keys.ECPrivateKey,
    asn1_pkcs12.Pfx,
)


def holds_private_key(data: bytes) -> bool:
    """Whether an upload is, or carries, a private key, in PEM (``-----BEGIN … PRIVATE KEY-----``)
    or DER, or is a PKCS#12 bundle. People send the .p12 their CA gave them, or the key beside the
    certificate; it must be refused as such, not as a malformed certificate."""
    if b"PRIVATE KEY-----" in data:
        return True
    for structure in _PRIVATE_KEY_STRUCTURES:
        try:
            structure.load(data, strict=True).native  # noqa: B018 -- parses every field now
        except (ValueError, TypeError, KeyError, IndexError, OverflowError):
            continue
        return True
    return False


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    if len(data) > MAX_CRL_BYTES:
        raise CertificateError("crl_malformed", "The revocation list is too large.")
    try:
        crl = x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
        crl.issuer, crl.extensions  # noqa: B018
        for revoked in crl:
            revoked.extensions  # noqa: B018
    except (ValueError, TypeError, x509.InvalidVersion, x509.DuplicateExtension):
        raise CertificateError(
            "crl_malformed", "This is not an X.509 revocation list in PEM or DER form."
        ) from None
    return crl


def fingerprint_sha256(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


# --- single-certificate checks -------------------------------------------------------------------


def is_ca_certificate(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def check_end_entity(cert: x509.Certificate) -> None:
    if is_ca_certificate(cert):
        raise CertificateError(
            "certificate_not_end_entity",
            "This is a CA certificate; upload the signing certificate it issued instead.",
        )


def check_algorithm_policy(cert: x509.Certificate) -> None:
    """The key and the issuer's signature hash are strong enough (also for CA certificates)."""
    _check_public_key(cert)
    try:
        signature_hash = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        signature_hash = None
    if not isinstance(signature_hash, ALLOWED_SIGNATURE_HASHES):
        name = signature_hash.name.upper() if signature_hash else cert.signature_algorithm_oid.dotted_string
        raise CertificateError(
            "certificate_weak_algorithm",
            f"The certificate is signed with {name}; SHA-256, SHA-384 or SHA-512 is required.",
        )


def _check_public_key(cert: x509.Certificate) -> None:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CertificateError(
                "certificate_weak_algorithm",
                f"The certificate's RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required.",
            )
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ALLOWED_CURVES):
            raise CertificateError(
                "certificate_weak_algorithm",
                f"The certificate's key is on curve {key.curve.name}; only P-256 and P-384 are accepted.",
            )
    else:
        raise CertificateError(
            "certificate_weak_algorithm", "The certificate's key is neither RSA nor a P-256/P-384 EC key."
        )


def check_key_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not (usage.digital_signature or usage.content_commitment):
        raise CertificateError(
            "certificate_key_usage",
            "The certificate's key usage allows neither digital signature nor non-repudiation.",
        )


def check_validity(cert: x509.Certificate, at: datetime.datetime) -> None:
    at = _aware(at)
    if at < cert.not_valid_before_utc:
        raise CertificateError(
            "certificate_not_yet_valid",
            f"The certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC.",
        )
    if at > cert.not_valid_after_utc:
        raise CertificateError(
            "certificate_expired",
            f"The certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC.",
        )


# --- chain and revocation ------------------------------------------------------------------------


def _ca_key_usage_allows_signing_certificates(policy, cert, key_usage: x509.KeyUsage | None) -> None:
    if key_usage is not None and not key_usage.key_cert_sign:
        raise ValueError("a CA's keyUsage must include keyCertSign")


# The verifier's defaults are the CA/B Forum's web PKI profile: a leaf needs a SAN and a TLS EKU,
# a CA needs keyUsage. Vietnamese signing certificates have no SAN and often no EKU, and some
# issuers' CA certificates omit keyUsage, so the leaf's extensions are left to our own checks
# (basic constraints, key usage) and a CA only has to be one: basicConstraints cA (which the
# verifier insists on anyway) and, where keyUsage is present, keyCertSign.
_END_ENTITY_POLICY = ExtensionPolicy.permit_all()
_CA_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, None)
    .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _ca_key_usage_allows_signing_certificates)
)


def build_chain(
    cert: x509.Certificate,
    trusted_issuers: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    *,
    at: datetime.datetime,
) -> list[x509.Certificate]:
    """The path from ``cert`` (first) to one of ``trusted_issuers`` (last), valid at ``at``.

    A trusted issuer may be an intermediate CA: the verifier takes whatever is in its ``Store`` as a
    trust anchor and stops there, without asking for the anchor's own issuer. The verifier also
    checks every link's signature (refusing SHA-1 and MD5), validity at ``at``, basic constraints and
    path length, and issuers' RSA keys of fewer than 2048 bits; our key policy is applied on top.
    """
    if not trusted_issuers:
        raise CertificateError("certificate_untrusted", "No trusted issuer is configured.")
    verifier = (
        PolicyBuilder()
        .store(Store(list(trusted_issuers)))
        .time(_aware(at))
        .extension_policies(ca_policy=_CA_POLICY, ee_policy=_END_ENTITY_POLICY)
        .build_client_verifier()
    )
    try:
        chain = list(verifier.verify(cert, list(intermediates)).chain)
    except VerificationError as exc:
        raise CertificateError(
            "certificate_untrusted",
            f"The certificate does not chain to a trusted issuer at this time ({exc}).",
        ) from None
    if len(chain) < 2:
        # The certificate itself is in the trusted list: trusting a leaf directly is not a chain.
        raise CertificateError("certificate_untrusted", "The certificate is not issued by a trusted issuer.")
    for issuer in chain[1:]:
        _check_public_key(issuer)
    return chain


def check_revocation(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    crl: x509.CertificateRevocationList,
    at: datetime.datetime,
) -> RevocationStatus:
    """Whether ``issuer``'s CRL lists ``cert``. Any listing counts, whatever its date or reason."""
    at = _aware(at)
    if crl.issuer != issuer.subject or not crl_signed_by(crl, issuer):
        raise CertificateError("crl_invalid", "The revocation list is not the certificate issuer's.")
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    except x509.ExtensionNotFound:
        pass
    else:
        raise CertificateError("crl_invalid", "A delta revocation list cannot be used on its own.")
    revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if revoked is not None:
        try:
            reason = revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
        except x509.ExtensionNotFound:
            reason = None
        raise CertificateRevokedError(cert, revoked.revocation_date_utc, reason)
    next_update = crl.next_update_utc
    return RevocationStatus(
        crl_this_update=crl.last_update_utc,
        crl_next_update=next_update,
        stale=next_update is not None and next_update < at,
    )


def crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.crl_sign:
        return False
    try:
        return crl.is_signature_valid(issuer.public_key())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # Algorithms cryptography no longer verifies (SHA-1 and older): not a signature we accept.
        return False


def validate_signing_certificate(
    cert: x509.Certificate,
    trusted_issuers: Sequence[x509.Certificate],
    crls_by_issuer_fingerprint: dict[str, x509.CertificateRevocationList],
    at: datetime.datetime,
    intermediates: Sequence[x509.Certificate] = (),
) -> ValidationResult:
    """Every check a signing certificate must pass, in a fixed order so a certificate that fails
    several always reports the same code: end entity, algorithms, key usage, validity, chain,
    revocation.

    Revocation is checked for each certificate in the chain whose issuer's CRL is known (the trusted
    anchor itself is not); only the signing certificate's own CRL being unknown sets ``crl_missing``.
    """
    check_end_entity(cert)
    check_algorithm_policy(cert)
    check_key_usage(cert)
    check_validity(cert, at)
    chain = build_chain(cert, trusted_issuers, intermediates, at=at)
    crl_missing = fingerprint_sha256(chain[1]) not in crls_by_issuer_fingerprint
    crl_stale = False
    for subject, issuer in itertools.pairwise(chain):
        crl = crls_by_issuer_fingerprint.get(fingerprint_sha256(issuer))
        if crl is not None:
            crl_stale |= check_revocation(subject, issuer, crl, at).stale
    return ValidationResult(
        certificate=cert, chain=chain, issuer=chain[1], crl_stale=crl_stale, crl_missing=crl_missing
    )


# --- who the certificate names (DESIGN §7) -------------------------------------------------------

_CITIZEN_ID = re.compile(r"\d{12}")


def _uid_values(cert: x509.Certificate, prefix: str) -> list[str]:
    values = []
    for attribute in cert.subject.get_attributes_for_oid(NameOID.USER_ID):
        label, sep, value = str(attribute.value).partition(":")
        if sep and label.strip().upper() == prefix:
            values.append("".join(value.split()))
    return values


def subject_tax_code(cert: x509.Certificate) -> str | None:
    """The enterprise tax code of ``UID=MST:...`` in canonical form (``0100686209-001`` for a branch)."""
    for value in _uid_values(cert, "MST"):
        if mst.is_valid(value):
            return mst.format(value)
    return None


def subject_citizen_id(cert: x509.Certificate) -> str | None:
    """The 12-digit citizen ID number (CCCD) of ``UID=CCCD:...``."""
    for value in _uid_values(cert, "CCCD"):
        if _CITIZEN_ID.fullmatch(value):
            return value
    return None


def subject_common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _aware(at: datetime.datetime) -> datetime.datetime:
    if at.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    return at.astimezone(datetime.UTC)
