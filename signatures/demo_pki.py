"""A throw-away certificate authority for the demo: a CA the demo trusts, and signing certificates
with their private keys for the demo trader and broker, written under ``DATA_DIR/demo-pki`` so a
person can bind them with the ``openssl`` commands of docs/certificates.md. Never used outside
``seed_demo``."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VALIDITY = datetime.timedelta(days=3 * 365)


def _key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return key


def _certificate(path: Path, build) -> x509.Certificate:
    if path.exists():
        return x509.load_pem_x509_certificate(path.read_bytes())
    certificate = build()
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return certificate


def _builder(subject: x509.Name, issuer: x509.Name, public_key, *, ca: bool) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(
        digital_signature=not ca, content_commitment=not ca, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def demo_pki(directory: Path, holders: dict[str, tuple[str, str]]) -> dict[str, Path]:
    """Create (or keep) ``ca.pem`` and, for each ``name: (tax code, company)``, ``name.pem`` (the
    certificate), ``name.cer`` (the same in DER) and ``name.key``. Returns the files by name."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key(directory / "ca.key")
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo CA (not for real use)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "CSG Demo CA"),
        ]
    )
    ca = _certificate(
        directory / "ca.pem",
        lambda: _builder(ca_name, ca_name, ca_key.public_key(), ca=True).sign(ca_key, hashes.SHA256()),
    )
    files = {"ca": directory / "ca.pem"}
    for name, (tax_code, company) in holders.items():
        key = _key(directory / f"{name}.key")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.COMMON_NAME, company),
                x509.NameAttribute(NameOID.USER_ID, f"MST:{tax_code}"),
            ]
        )
        certificate = _certificate(
            directory / f"{name}.pem",
            lambda subject=subject, key=key: (
                _builder(subject, ca.subject, key.public_key(), ca=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
                )
                .sign(ca_key, hashes.SHA256())
            ),
        )
        (directory / f"{name}.cer").write_bytes(certificate.public_bytes(serialization.Encoding.DER))
        files[name] = directory / f"{name}.pem"
    return files
