"""Detached CMS SignedData over exact bytes, made by pyHanko's signers.

pyHanko's ``Signer.async_sign_general_data`` signs arbitrary (non-PDF) data: SHA-256, signed
attributes (content type, message digest, signing time, and pyHanko's CMS algorithm protection
and signing-certificate-v2), the signer's certificate included, RSA PKCS#1 v1.5 or ECDSA. The same
call serves a token (``PKCS11Signer``) and a ``.p12`` (``SimpleSigner``).
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.sign.general import SigningError
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from csg_sign.errors import ToolError
from csg_sign.tokens import CertificateOnToken


def token_signer(session, key: CertificateOnToken) -> Signer:
    return PKCS11Signer(
        session,
        key_id=key.id,
        signing_cert=asn1_x509.Certificate.load(key.certificate.public_bytes(Encoding.DER)),
        # Hash here and let the token only sign the digest: tokens that sign with ECDSA offer plain
        # CKM_ECDSA far more often than CKM_ECDSA_SHA256.
        use_raw_mechanism=isinstance(key.certificate.public_key(), ec.EllipticCurvePublicKey),
    )


def pkcs12_signer(path: Path, passphrase: str) -> tuple[Signer, x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ToolError(f"cannot read {path}: {error.strerror}") from None
    try:
        # An empty answer opens a .p12 that has no passphrase.
        signer = SimpleSigner.load_pkcs12_data(data, [], passphrase=passphrase.encode() or None)
    except (ValueError, AttributeError):  # AttributeError: a .p12 with a key but no certificate
        raise ToolError(f"cannot open {path}: wrong passphrase, or not a PKCS#12 (.p12/.pfx) file") from None
    return signer, x509.load_der_x509_certificate(signer.signing_cert.dump())


def sign_detached(signer: Signer, data: bytes) -> bytes:
    attributes = PdfCMSSignedAttributes(signing_time=datetime.datetime.now(datetime.UTC))
    try:
        content_info = asyncio.run(
            signer.async_sign_general_data(data, "sha256", detached=True, signed_attr_settings=attributes)
        )
    except (SigningError, RuntimeError) as error:
        # python-pkcs11's errors are RuntimeErrors: a token pulled out, a key that may not sign.
        raise ToolError(f"the token refused to sign ({type(error).__name__}: {error})") from None
    return content_info.dump()
