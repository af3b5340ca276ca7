"""Database-side helpers for certificate tests: trust the test PKI's CAs the way an officer does."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from signatures import services
from signatures.models import TrustedIssuer
from tests.signatures.pki_factory import Identity


def trust(*authorities: Identity) -> list[TrustedIssuer]:
    return [
        services.trusted_issuer_add(
            data=authority.certificate.public_bytes(serialization.Encoding.PEM),
            name=authority.certificate.subject.rfc4514_string()[:100],
            actor=None,
        )
        for authority in authorities
    ]


def crl_bytes(crl) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)
