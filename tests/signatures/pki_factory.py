"""Real X.509 material for tests: keys, CAs, Vietnamese signing certificates, CRLs, and signatures
made by the ``openssl`` command line, which stands for the signing tools traders and brokers use.

Keys are generated once per process (RSA generation is slow) and shared by certificates; ask for
another ``slot`` when a test needs a second, different key of the same kind.
"""

from __future__ import annotations

import datetime
import functools
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

OPENSSL = shutil.which("openssl") or "openssl"
TAX_CODE = "0100686209"
BROKER_TAX_CODE = "0301234562"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# Signers use key slots from 0, CAs from here, so no signer shares a key with a CA by accident.
CA_SLOT = 100

_CURVES = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1}


@functools.cache
def private_key(kind: str = "rsa2048", slot: int = 0) -> PrivateKey:
    """``rsa1024``, ``rsa2048``, ``rsa3072``, ``p256``, ``p384`` or ``p521``."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    return ec.generate_private_key(_CURVES[kind]())


@dataclass(frozen=True)
class Identity:
    certificate: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def vn_subject(common_name: str, *, tax_code: str | None = None, citizen_id: str | None = None) -> x509.Name:
    """A subject as Vietnamese CAs write it: ``UID=MST:<tax code>, [UID=CCCD:<id>,] CN=..., C=VN``."""
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if citizen_id:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, f"CCCD:{citizen_id}"))
    if tax_code:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, f"MST:{tax_code}"))
    return x509.Name(attributes)


def key_usage(*, digital_signature=False, content_commitment=False, key_cert_sign=False, crl_sign=False):
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


SIGNING_USAGE = key_usage(digital_signature=True, content_commitment=True)
CA_USAGE = key_usage(key_cert_sign=True, crl_sign=True)
_DEFAULT = object()


def issue(
    subject: x509.Name,
    key: PrivateKey,
    issuer: Identity | None = None,
    *,
    ca: bool = False,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    usage: x509.KeyUsage | None = _DEFAULT,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    serial_number: int | None = None,
) -> x509.Certificate:
    """A certificate for ``key``, self-signed without ``issuer``; ``usage=None`` leaves keyUsage out."""
    now = datetime.datetime.now(datetime.UTC)
    issuer_name = issuer.certificate.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    if usage is _DEFAULT:
        usage = CA_USAGE if ca else SIGNING_USAGE
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial_number or x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    return builder.sign(signing_key, hash_algorithm or hashes.SHA256())


def resign_with_weak_hash(cert: x509.Certificate, issuer_key: PrivateKey, hash_name: str) -> x509.Certificate:
    """``cert`` signed again with SHA-1 or MD5, which cryptography's builders refuse to use: the
    to-be-signed part is rewritten with asn1crypto and signed with the raw key."""
    hash_algorithm = {"sha1": hashes.SHA1(), "md5": hashes.MD5()}[hash_name]  # noqa: S303
    is_rsa = isinstance(issuer_key, rsa.RSAPrivateKey)
    algorithm = algos.SignedDigestAlgorithm({"algorithm": f"{hash_name}_{'rsa' if is_rsa else 'ecdsa'}"})
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"]
    tbs["signature"] = algorithm
    tbs_der = tbs.dump(force=True)
    if is_rsa:
        signature = issuer_key.sign(tbs_der, padding.PKCS1v15(), hash_algorithm)
    else:
        signature = issuer_key.sign(tbs_der, ec.ECDSA(hash_algorithm))
    weak = asn1_x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature}
    )
    return x509.load_der_x509_certificate(weak.dump())


def make_crl(
    issuer: Identity,
    *,
    revoked: Iterable[x509.Certificate] = (),
    reason: x509.ReasonFlags | None = x509.ReasonFlags.key_compromise,
    signing_key: PrivateKey | None = None,
    last_update: datetime.datetime | None = None,
    next_update: datetime.datetime | None = None,
    delta: bool = False,
) -> x509.CertificateRevocationList:
    """``issuer``'s CRL listing ``revoked``; ``signing_key`` forges it, a past ``next_update`` is stale."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(last_update or now - datetime.timedelta(hours=1))
        .next_update(next_update or now + datetime.timedelta(days=7))
    )
    for cert in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - datetime.timedelta(minutes=30))
        )
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    if delta:
        builder = builder.add_extension(x509.DeltaCRLIndicator(1), critical=True)
    return builder.sign(signing_key or issuer.key, hashes.SHA256())


class Pki:
    """A trusted root, an intermediate CA under it, an unrelated root, and signing certificates."""

    def __init__(self) -> None:
        self.root = self.ca("Test Root CA", slot=CA_SLOT)
        self.intermediate = self.ca("Test Intermediate CA", issuer=self.root, slot=CA_SLOT + 1)
        self.other_root = self.ca("Untrusted Root CA", slot=CA_SLOT + 2)
        self.trader = self.signer()
        self.broker = self.signer(company="Công ty CP Đại lý Sao Mai", tax_code=BROKER_TAX_CODE, slot=1)

    def ca(
        self,
        name: str,
        *,
        issuer: Identity | None = None,
        key: str = "rsa2048",
        slot: int = CA_SLOT + 9,  # the tests' ad-hoc CAs share a key; their names tell them apart
        **knobs,
    ) -> Identity:
        ca_key = private_key(key, slot)
        return Identity(issue(vn_subject(name), ca_key, issuer, ca=True, **knobs), ca_key)

    def signer(
        self,
        *,
        company: str = "Công ty TNHH Hòa Bình",
        tax_code: str | None = TAX_CODE,
        citizen_id: str | None = None,
        key: str = "rsa2048",
        slot: int = 0,
        issuer: Identity | None = None,
        **knobs,
    ) -> Identity:
        """A signing certificate from the intermediate CA (or ``issuer``); ``knobs`` go to ``issue``."""
        signer_key = private_key(key, slot)
        subject = vn_subject(company, tax_code=tax_code, citizen_id=citizen_id)
        return Identity(issue(subject, signer_key, issuer or self.intermediate, **knobs), signer_key)


# --- openssl, as a trader's signing tool ---------------------------------------------------------


def openssl_cms_sign(
    content: bytes,
    signer: Identity,
    *,
    detached: bool = True,
    noattr: bool = False,
    md: str = "sha256",
    pss: bool = False,
    keyid: bool = False,
    nocerts: bool = False,
    pem: bool = False,
    econtent_type: str | None = None,
    extra_signers: Sequence[Identity] = (),
    certfile: Sequence[x509.Certificate] = (),
) -> bytes:
    """``openssl cms -sign -binary`` over ``content``: DER, detached, with signed attributes by default."""
    with tempfile.TemporaryDirectory() as directory:
        files = _write(Path(directory), content, signer)
        argv = [OPENSSL, "cms", "-sign", "-binary", "-md", md, "-in", files["content"]]
        argv += ["-signer", files["cert"], "-inkey", files["key"]]
        if pss:
            argv += ["-keyopt", "rsa_padding_mode:pss"]
        for number, extra in enumerate(extra_signers):
            extra_files = _write(Path(directory), content, extra, prefix=f"extra{number}")
            argv += ["-signer", extra_files["cert"], "-inkey", extra_files["key"]]
        if certfile:
            bundle = Path(directory) / "certfile.pem"
            bundle.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certfile))
            argv += ["-certfile", str(bundle)]
        argv += ["-nodetach"] if not detached else []
        argv += ["-noattr"] if noattr else []
        argv += ["-keyid"] if keyid else []
        argv += ["-nocerts"] if nocerts else []
        argv += ["-econtent_type", econtent_type] if econtent_type else []
        argv += ["-outform", "PEM" if pem else "DER", "-out", str(Path(directory) / "out.p7s")]
        subprocess.run(argv, check=True, capture_output=True)
        return (Path(directory) / "out.p7s").read_bytes()


def openssl_dgst_sign(content: bytes, signer: Identity, *, md: str = "sha256") -> bytes:
    """``openssl dgst -<md> -sign key.pem``: a bare signature, as for a proof of possession."""
    with tempfile.TemporaryDirectory() as directory:
        files = _write(Path(directory), content, signer)
        return subprocess.run(
            [OPENSSL, "dgst", f"-{md}", "-sign", files["key"], files["content"]],
            check=True,
            capture_output=True,
        ).stdout


def _write(directory: Path, content: bytes, signer: Identity, prefix: str = "signer") -> dict[str, str]:
    files = {
        "content": (directory / "content.bin", content),
        "cert": (directory / f"{prefix}.pem", signer.cert_pem),
        "key": (directory / f"{prefix}.key", signer.key_pem),
    }
    for path, data in files.values():
        path.write_bytes(data)
    return {name: str(path) for name, (path, _) in files.items()}
