"""Hostile CMS signatures made from a real one, for ``bench/cms_bounds.py`` and the tests of the
signature's bounds: what an API key could send to make the server parse as much as it can.

Each takes a valid detached CMS (DER, one signer with signed attributes, as tokens and
``openssl cms -sign`` make them) and returns a variant. None needs a valid signature: the work an
attacker buys is the work done before the signature is checked."""

from __future__ import annotations

from collections.abc import Callable

from asn1crypto import cms

# Two bytes: the smallest element there is (a NULL).
TINY = b"\x05\x00"


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element with a one-byte tag and a definite length."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def _rebuilt(
    signed: bytes,
    *,
    certificates: Callable[[bytes], bytes] = bytes,
    signer_infos: Callable[[bytes], bytes] = bytes,
    signed_attributes: Callable[[bytes], bytes] = bytes,
) -> bytes:
    """``signed`` re-encoded with the contents of its certificates, signer infos or first signer's
    signed attributes passed through the given functions; every other byte is kept."""
    info = cms.ContentInfo.load(signed)
    signed_data = info["content"]
    signer = signed_data["signer_infos"][0]
    signer_der = tlv(
        0x30,
        b"".join(signer[name].dump() for name in ("version", "sid", "digest_algorithm"))
        + tlv(0xA0, signed_attributes(signer["signed_attrs"].contents))
        + b"".join(signer[name].dump() for name in ("signature_algorithm", "signature")),
    )
    body = (
        b"".join(signed_data[name].dump() for name in ("version", "digest_algorithms", "encap_content_info"))
        + tlv(0xA0, certificates(signed_data["certificates"].contents))
        + tlv(0x31, signer_infos(signer_der))
    )
    return tlv(0x30, info["content_type"].dump() + tlv(0xA0, tlv(0x30, body)))


def _fill(size: int, used: int, element: bytes) -> bytes:
    """As many copies of ``element`` as fit in what is left of ``size`` bytes."""
    return element * max(1, (size - used) // len(element))


def many_certificates(signed: bytes, certificate_der: bytes, count: int) -> bytes:
    """``count`` more copies of a certificate (the review sent 3,900 in 1 MB)."""
    return _rebuilt(signed, certificates=lambda contents: contents + certificate_der * count)


def tiny_elements_in_certificates(signed: bytes, size: int) -> bytes:
    return _rebuilt(signed, certificates=lambda contents: contents + _fill(size, len(signed) + 8, TINY))


def tiny_elements_in_signer_infos(signed: bytes, size: int) -> bytes:
    return _rebuilt(signed, signer_infos=lambda contents: contents + _fill(size, len(signed) + 8, TINY))


def tiny_signed_attributes(signed: bytes, size: int) -> bytes:
    """Many small unknown signed attributes (OID 1.2.3 with one NULL value each)."""
    attribute = tlv(0x30, tlv(0x06, b"\x2a\x03") + tlv(0x31, TINY))
    return _rebuilt(
        signed, signed_attributes=lambda contents: contents + _fill(size, len(signed) + 16, attribute)
    )


def many_values_in_an_attribute(signed: bytes, size: int) -> bytes:
    """The signing time given with thousands of values (RFC 5652 allows one)."""
    padding = _fill(size, len(signed) + 32, TINY)
    attribute = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010905")) + tlv(0x31, padding))
    return _rebuilt(signed, signed_attributes=lambda contents: attribute + contents)


def deeply_nested_attribute(signed: bytes, size: int) -> bytes:
    """An unknown signed attribute whose value is SEQUENCEs nested as deep as ``size`` allows."""
    nested = b""
    for _ in range(max(1, (size - len(signed) - 32) // 4)):
        nested = tlv(0x30, nested)
    attribute = tlv(0x30, tlv(0x06, b"\x2a\x03") + tlv(0x31, nested))
    return _rebuilt(signed, signed_attributes=lambda contents: contents + attribute)


def deeply_nested_certificate(signed: bytes, size: int) -> bytes:
    """A "certificate" that is SEQUENCEs nested as deep as ``size`` allows."""
    nested = b""
    for _ in range(max(1, (size - len(signed) - 32) // 4)):
        nested = tlv(0x30, nested)
    return _rebuilt(signed, certificates=lambda contents: contents + nested)


def tiny_elements_after_signed_data(signed: bytes, size: int) -> bytes:
    """SignedData with thousands of elements after its last field."""
    info = cms.ContentInfo.load(signed)
    body = info["content"].contents + _fill(size, len(signed) + 16, TINY)
    return tlv(0x30, info["content_type"].dump() + tlv(0xA0, tlv(0x30, body)))
