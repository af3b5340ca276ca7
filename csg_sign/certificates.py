"""What a user needs to know about a signing certificate before it signs anything with it."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from stdnum.vn import mst

from csg_sign.errors import ToolError


def tax_code(certificate: x509.Certificate) -> str | None:
    """The enterprise tax code a Vietnamese CA writes as ``UID=MST:<tax code>``, in canonical form
    (``0100686209-001`` for a branch), as the server reads it."""
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.USER_ID):
        label, sep, value = str(attribute.value).partition(":")
        value = "".join(value.split())
        if sep and label.strip().upper() == "MST" and mst.is_valid(value):
            return mst.format(value)
    return None


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class Summary:
    subject: str
    tax_code: str | None
    issuer: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    fingerprint: str


def summary(certificate: x509.Certificate) -> Summary:
    return Summary(
        subject=certificate.subject.rfc4514_string(),
        tax_code=tax_code(certificate),
        issuer=certificate.issuer.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        fingerprint=fingerprint(certificate),
    )


def require_valid(certificate: x509.Certificate, now: datetime.datetime | None = None) -> None:
    """Refuse to sign with a certificate outside its validity: the server would refuse the signature,
    and on a token the PIN would have been typed for nothing."""
    now = now or datetime.datetime.now(datetime.UTC)
    if certificate.not_valid_after_utc < now:
        raise ToolError(
            f"the certificate {certificate.subject.rfc4514_string()} expired on "
            f"{certificate.not_valid_after_utc:%Y-%m-%d}; sign with its renewal"
        )
    if certificate.not_valid_before_utc > now:
        raise ToolError(
            f"the certificate {certificate.subject.rfc4514_string()} is valid only from "
            f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )


def require_tax_code(certificate: x509.Certificate, expected: str) -> None:
    found = tax_code(certificate)
    if found != expected:
        raise ToolError(
            f"the certificate is for tax code {found or '(none)'}, not {expected}, the enterprise "
            "this API key files for; sign with your own enterprise's certificate"
        )
