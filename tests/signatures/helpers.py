"""Database-side helpers for certificate tests: trust the test PKI's CAs the way an officer does."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from signatures.models import TrustedIssuer
from signatures.services.binding import certificate_prove, certificate_upload, custodians_set
from signatures.services.trust import trusted_issuer_add
from tests.signatures.pki_factory import Identity


def trust(*authorities: Identity) -> list[TrustedIssuer]:
    return [
        trusted_issuer_add(
            data=authority.certificate.public_bytes(serialization.Encoding.PEM),
            name=authority.certificate.subject.rfc4514_string()[:100],
            actor=None,
        )
        for authority in authorities
    ]


def crl_bytes(crl) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)


def bind_certificate(owner, identity, custodians=()):
    """Upload ``identity``'s certificate as ``owner``, prove possession with ``openssl dgst`` and name
    the custodians: a certificate bound and active, as the portal makes it."""
    from tests.signatures.pki_factory import openssl_dgst_sign

    certificate = certificate_upload(
        actor=owner, data=identity.cert_pem, signer_name="Người ký", signer_id_number="001203004567"
    )
    proof = openssl_dgst_sign(certificate.challenge.encode(), identity)
    certificate = certificate_prove(certificate=certificate, proof=proof, actor=owner)
    if custodians:
        custodians_set(certificate=certificate, users=list(custodians), actor=owner)
    return certificate
