"""Verification of detached CMS (PKCS#7) SignedData and of proof-of-possession signatures.

``asn1crypto`` parses the structure; ``cryptography`` checks every digest and signature. What the
signer's certificate is worth (chain, validity at the time of use, revocation) is ``signatures.pki``'s
business: here a signature is only checked against the certificate that made it.
"""

from __future__ import annotations

import datetime
import functools
import hmac
from dataclasses import dataclass

from asn1crypto import cms, core, parser, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from signatures.pki import CertificateError, load_certificate

# Bounds on what a signature may make the server parse (docs/certificates.md). A real signature is
# one signer's certificate and its chain, a few KiB; each bound leaves room for any of them.
MAX_CMS_BYTES = 64 * 1024
MAX_CMS_CERTIFICATES = 10
MAX_SIGNED_ATTRIBUTES = 32
# Elements of each structure read, by RFC 5652: ContentInfo, SignedData, EncapsulatedContentInfo,
# SignerInfo and Attribute. Python's parser would otherwise read any number of extra ones.
_FIELDS = {"content_info": 2, "signed_data": 6, "encapsulated": 2, "signer_info": 7, "attribute": 2}
DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# asn1crypto's names for the signatureAlgorithm OIDs we accept, and the hash an OID names, if any.
_SIGNATURE_ALGORITHMS = {
    "rsassa_pkcs1v15": ("rsa", None),
    "sha256_rsa": ("rsa", "sha256"),
    "sha384_rsa": ("rsa", "sha384"),
    "sha512_rsa": ("rsa", "sha512"),
    "rsassa_pss": ("rsa_pss", None),
    "sha256_ecdsa": ("ecdsa", "sha256"),
    "sha384_ecdsa": ("ecdsa", "sha384"),
    "sha512_ecdsa": ("ecdsa", "sha512"),
    # Some signing tools name the key type (id-ecPublicKey) instead of ecdsa-with-SHAx.
    "1.2.840.10045.2.1": ("ecdsa", None),
}


class SignatureError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CmsVerification:
    signer_certificate: x509.Certificate
    certificates: list[x509.Certificate]  # every certificate the CMS carries, signer's included
    digest_algorithm: str  # "sha256", "sha384" or "sha512"
    signing_time: datetime.datetime | None
    has_signed_attributes: bool


@dataclass(frozen=True)
class _SignerInfo:
    """The parts of a SignedData we use, extracted in one place so that asn1crypto's lazy parsing
    cannot fail later with an exception other than ``signature_malformed``."""

    certificates: list[tuple[dict, x509.Certificate]]  # with the ways a signer could name each
    sid: tuple[str, object]  # how the signer names its certificate: one of those ways, and its value
    encapsulated_content: bytes | None
    digest_algorithm: str
    signature_algorithm: str
    pss_parameters: tuple[str, str, str, int] | None  # hash, mask generation, MGF1 hash, salt length
    signature: bytes
    signed_attributes: bytes | None  # DER of the SET OF Attribute that was signed
    content_type: str | None
    message_digest: bytes | None
    signing_time: datetime.datetime | None


def verify_detached(
    cms_der: bytes, content: bytes, *, certificate: x509.Certificate | None = None
) -> CmsVerification:
    """Check a CMS SignedData with one signer over ``content`` (DESIGN §6: with or without signed
    attributes, as USB-token tools and ``openssl cms -sign -binary`` make them).

    The signer's certificate is found among the certificates the CMS carries, or is ``certificate``;
    given both, they must be the same certificate. A CMS that carries the content too is accepted
    when that content is exactly ``content``.
    """
    return _verify_parsed(_parse(cms_der), content, certificate)


def _verify_parsed(
    info: _SignerInfo, content: bytes, certificate: x509.Certificate | None
) -> CmsVerification:
    signer = _signer_certificate(info, certificate)
    if info.encapsulated_content is not None and info.encapsulated_content != content:
        raise SignatureError(
            "signature_digest_mismatch", "The content inside the signature is not the document."
        )
    hash_algorithm = _digest(info.digest_algorithm)
    if info.signed_attributes is None:
        signed_bytes = content
    else:
        if info.content_type != "data":
            raise SignatureError("signature_malformed", "The signed content type is not data.")
        if info.message_digest is None:
            raise SignatureError("signature_malformed", "The signed attributes have no message digest.")
        digest = hashes.Hash(hash_algorithm)
        digest.update(content)
        if not hmac.compare_digest(digest.finalize(), info.message_digest):
            raise SignatureError("signature_digest_mismatch", "The document is not the one that was signed.")
        signed_bytes = info.signed_attributes
    _verify(_public_key(signer), info, hash_algorithm, signed_bytes)
    if info.signing_time is not None and not (
        signer.not_valid_before_utc <= info.signing_time <= signer.not_valid_after_utc
    ):
        raise SignatureError(
            "signature_time_outside_validity",
            f"The signing time {info.signing_time:%Y-%m-%d %H:%M} UTC is outside the certificate's validity.",
        )
    return CmsVerification(
        signer_certificate=signer,
        certificates=[cert for _, cert in info.certificates],
        digest_algorithm=info.digest_algorithm,
        signing_time=info.signing_time,
        has_signed_attributes=info.signed_attributes is not None,
    )


def verify_raw_signature(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    """A bare signature as ``openssl dgst -sha256 -sign key.pem`` makes it: PKCS#1 v1.5 for RSA,
    DER ECDSA for EC. It names no hash, so SHA-256, SHA-384 and SHA-512 are each tried."""
    key = _public_key(cert)
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise SignatureError("signature_algorithm_unsupported", "Only RSA and EC keys can prove possession.")
    for hash_class in DIGESTS.values():
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, data, padding.PKCS1v15(), hash_class())
            else:
                key.verify(signature, data, ec.ECDSA(hash_class()))
        except InvalidSignature:
            continue
        return
    raise SignatureError("signature_invalid", "The signature was not made with this certificate's key.")


def verify_proof_of_possession(cert: x509.Certificate, proof: bytes, challenge: bytes) -> None:
    """``proof`` is ``challenge`` signed with ``cert``'s key: a raw signature (``openssl dgst -sign``)
    or a CMS, detached or not (``openssl cms -sign``), whose signer is ``cert``."""
    try:
        info = _parse(proof)
    except SignatureError:
        # Not a CMS, so a raw signature. (A raw ECDSA signature is DER too, but not a ContentInfo.)
        verify_raw_signature(cert, proof, challenge)
    else:
        _verify_parsed(info, challenge, cert)


# --- parsing -------------------------------------------------------------------------------------


def _parse(data: bytes) -> _SignerInfo:
    if len(data) > MAX_CMS_BYTES:  # as sent, DER or PEM
        raise _too_large()
    try:
        if pem.detect(data):
            armour, _, data = pem.unarmor(data)
            if armour not in ("PKCS7", "CMS"):
                raise ValueError(armour)
        content_info = cms.ContentInfo.load(data, strict=True)
        _bounded(content_info, _FIELDS["content_info"])
        if content_info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed_data = content_info["content"]
        _bounded(signed_data, _FIELDS["signed_data"])
        _bounded(signed_data["certificates"], MAX_CMS_CERTIFICATES, "certificates")
        if _more_than(signed_data["signer_infos"].contents, 1) or not signed_data["signer_infos"].contents:
            raise SignatureError("signature_malformed", "The signature must have exactly one signer.")
        signer_info = signed_data["signer_infos"][0]
        _bounded(signer_info, _FIELDS["signer_info"])
        _bounded(signer_info["signed_attrs"], MAX_SIGNED_ATTRIBUTES, "signed attributes")
        encapsulated = signed_data["encap_content_info"]
        _bounded(encapsulated, _FIELDS["encapsulated"])
        if encapsulated["content_type"].native != "data":
            raise SignatureError("signature_malformed", "The signed content type is not data.")
        return _SignerInfo(
            certificates=[
                _carried_certificate(choice.chosen.dump())
                for choice in _present(signed_data["certificates"])
                if choice.name == "certificate"
            ],
            sid=_signer_identifier(signer_info["sid"]),
            encapsulated_content=encapsulated["content"].native,
            digest_algorithm=signer_info["digest_algorithm"]["algorithm"].native,
            signature_algorithm=signer_info["signature_algorithm"]["algorithm"].native,
            pss_parameters=_pss_parameters(signer_info["signature_algorithm"]),
            signature=signer_info["signature"].native,
            **_signed_attributes(signer_info["signed_attrs"]),
        )
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, CertificateError):
        raise SignatureError("signature_malformed", "This is not a CMS (PKCS#7) signature.") from None


def _too_large() -> SignatureError:
    return SignatureError("signature_too_large", f"The signature is larger than {MAX_CMS_BYTES // 1024} KiB.")


def _bounded(element, limit: int, what: str | None = None) -> None:
    """Refuse ``element`` (a constructed value, or an absent optional one) when it holds more than
    ``limit`` elements, before anything parses them: parsing each costs far more than counting."""
    if not isinstance(element, core.Void) and _more_than(element.contents, limit):
        if what is None:
            raise ValueError("more elements than the structure has fields")
        raise SignatureError("signature_malformed", f"The signature carries more than {limit} {what}.")


def _more_than(contents: bytes | None, limit: int) -> bool:
    """Whether the encoded ``contents`` hold more than ``limit`` elements; reads at most ``limit``
    headers (``asn1crypto.parser.parse`` also bounds indefinite-length nesting)."""
    contents = contents or b""
    pointer = 0
    for _ in range(limit):
        if pointer >= len(contents):
            return False
        _class, _method, _tag, header, body, trailer = parser.parse(contents[pointer:], strict=False)
        pointer += len(header) + len(body) + len(trailer)
    return pointer < len(contents)


def _present(optional) -> list:
    return [] if isinstance(optional, core.Void) else list(optional)


def _pss_parameters(algorithm) -> tuple[str, str, str, int] | None:
    if algorithm["algorithm"].native != "rsassa_pss":
        return None
    parameters = algorithm["parameters"]
    if parameters["trailer_field"].native != "trailer_field_bc":
        raise ValueError("unknown PSS trailer field")
    mask_generation = parameters["mask_gen_algorithm"]
    if parameters["salt_length"].native < 0:
        raise ValueError("negative PSS salt length")
    return (
        parameters["hash_algorithm"]["algorithm"].native,
        mask_generation["algorithm"].native,
        mask_generation["parameters"]["algorithm"].native,
        parameters["salt_length"].native,
    )


def _signed_attributes(attributes) -> dict:
    if isinstance(attributes, core.Void):
        return {"signed_attributes": None, "content_type": None, "message_digest": None, "signing_time": None}
    values = {}
    for attribute in attributes:
        _bounded(attribute, _FIELDS["attribute"])
        name = attribute["type"].native
        if name in ("content_type", "message_digest", "signing_time"):
            if (
                name in values
                or _more_than(attribute["values"].contents, 1)
                or not attribute["values"].contents
            ):
                # RFC 5652 §11: each of these occurs at most once, with exactly one value.
                raise ValueError(f"repeated {name}")
            values[name] = attribute["values"][0].native
    signing_time = values.get("signing_time")
    if signing_time is not None and not (isinstance(signing_time, datetime.datetime) and signing_time.tzinfo):
        raise ValueError("a signing time must be a UTC time")  # year 0 or no zone, for one
    return {
        # The signature covers the attributes encoded as a SET OF (RFC 5652 §5.4), not with the
        # [0] IMPLICIT tag they carry inside SignerInfo. untag() keeps the received content bytes
        # and only rebuilds the header, so a signer's encoding choices are preserved.
        "signed_attributes": attributes.untag().dump(),
        "content_type": values.get("content_type"),
        "message_digest": values.get("message_digest"),
        "signing_time": values.get("signing_time"),
    }


# --- the signer and the signature ----------------------------------------------------------------


def _signer_certificate(info: _SignerInfo, certificate: x509.Certificate | None) -> x509.Certificate:
    kind, value = info.sid
    embedded = next((cert for ids, cert in info.certificates if ids[kind] == value), None)
    if certificate is not None:
        try:
            given = _signer_identifiers(
                asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
            )
        except ValueError:  # a name asn1crypto cannot decode cannot be the one the signer gave
            given = {}
        if given.get(kind) != value or (embedded is not None and embedded != certificate):
            raise SignatureError(
                "signature_signer_unknown", "The signature was not made with the expected certificate."
            )
        return certificate
    if embedded is None:
        raise SignatureError(
            "signature_signer_unknown", "The signature does not carry the certificate that made it."
        )
    return embedded


def _signer_identifier(sid: cms.SignerIdentifier) -> tuple[str, object]:
    if sid.name == "issuer_and_serial_number":
        return sid.name, (_name_hashable(sid.chosen["issuer"].dump()), sid.chosen["serial_number"].native)
    return sid.name, sid.chosen.native


@functools.lru_cache(maxsize=512)
def _name_hashable(der: bytes) -> str:
    """An issuer's name normalised for comparison, once per process: a signer names the same issuer
    in every signature, and normalising a name costs a tenth of a signing request."""
    return asn1_x509.Name.load(der).hashable


@functools.lru_cache(maxsize=512)
def _carried_certificate(der: bytes) -> tuple[dict[str, object], x509.Certificate]:
    """A certificate carried in a CMS, parsed once per process: a signer sends the same one with
    every signature, and parsing it costs more than verifying the signature."""
    return _signer_identifiers(asn1_x509.Certificate.load(der)), load_certificate(der)


def _signer_identifiers(cert: asn1_x509.Certificate) -> dict[str, object]:
    """The two ways a SignerInfo can name ``cert`` (RFC 5652 §5.3). ``Name.hashable`` is normalised
    as RFC 5280 compares names, so a signer re-encoding the issuer's name still matches."""
    return {
        "issuer_and_serial_number": (cert.issuer.hashable, cert.serial_number),
        "subject_key_identifier": cert.key_identifier or cert.public_key.sha1,
    }


def _public_key(cert: x509.Certificate):
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureError(
            "signature_algorithm_unsupported", "The certificate's key type is not supported."
        ) from None


def _digest(name: str) -> hashes.HashAlgorithm:
    if name not in DIGESTS:
        raise SignatureError(
            "signature_algorithm_unsupported",
            f"The digest algorithm {name} is not accepted; use SHA-256, SHA-384 or SHA-512.",
        )
    return DIGESTS[name]()


def _verify(key, info: _SignerInfo, hash_algorithm: hashes.HashAlgorithm, signed_bytes: bytes) -> None:
    kind, named_hash = _SIGNATURE_ALGORITHMS.get(info.signature_algorithm, (None, None))
    if kind == "rsa_pss":
        named_hash, mask_generation, mgf1_hash, salt_length = info.pss_parameters
        if mask_generation != "mgf1" or mgf1_hash not in DIGESTS:
            kind = None
    # One hash for the content and the signature: a signature algorithm naming another hash than
    # the digest algorithm is refused rather than guessed at.
    if kind is None or named_hash not in (None, info.digest_algorithm):
        raise SignatureError(
            "signature_algorithm_unsupported",
            f"The signature algorithm {info.signature_algorithm} is refused with {info.digest_algorithm}.",
        )
    if kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
        scheme = None
    elif kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
        scheme = padding.PKCS1v15()
    elif kind == "rsa_pss" and isinstance(key, rsa.RSAPublicKey):
        scheme = padding.PSS(mgf=padding.MGF1(DIGESTS[mgf1_hash]()), salt_length=salt_length)
    else:
        raise SignatureError(
            "signature_algorithm_unsupported",
            f"The signature algorithm {info.signature_algorithm} does not fit the certificate's key.",
        )
    try:
        if scheme is None:
            key.verify(info.signature, signed_bytes, ec.ECDSA(hash_algorithm))
        else:
            key.verify(info.signature, signed_bytes, scheme, hash_algorithm)
    except (InvalidSignature, ValueError):
        # ValueError: a PSS salt longer than the key allows, for one.
        raise SignatureError("signature_invalid", "The signature does not verify.") from None
