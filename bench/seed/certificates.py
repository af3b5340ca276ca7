"""Trusted issuers (self-signed CAs) and one real X.509 certificate per organisation, with its
custodians."""

from __future__ import annotations

import datetime
import hashlib
import random

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.seed.state import Seed
from bench.seed.tables import Table
from bench.seed.values import ISSUER_WEIGHTS, ISSUERS, person
from signatures.models import Certificate, CertificateCustodian, TrustedIssuer
from signatures.services.binding import CHALLENGE_PREFIX


def issuers(seed: Seed) -> int:
    rng = random.Random(seed.random_seed)
    seed.issuer_keys = []
    rows = []
    for index, name in enumerate(ISSUERS):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(x509.NameOID.COMMON_NAME, name),
                x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "VN"),
            ]
        )
        cert = _certificate(
            subject,
            subject,
            key.public_key(),
            key,
            ca=True,
            serial=rng.getrandbits(64),
            not_before=seed.now - datetime.timedelta(days=3650),
            years=20,
        )
        der = cert.public_bytes(serialization.Encoding.DER)
        seed.issuer_keys.append((index + 1, key, subject, name))
        rows.append(
            TrustedIssuer(
                pk=index + 1,
                name=name,
                subject=cert.subject.rfc4514_string(),
                fingerprint_sha256=hashlib.sha256(der).hexdigest(),
                der=der,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                status=TrustedIssuer.Status.ACTIVE,
            )
        )
    TrustedIssuer.objects.bulk_create(rows)
    return len(rows)


def certificates(seed: Seed) -> int:
    rng = random.Random(seed.random_seed + 4)
    # A handful of holder keys: only the certificates' fingerprints must differ, and key
    # generation would otherwise dominate this step.
    holder_keys = [ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(16)]
    issuer_weights = ISSUER_WEIGHTS

    def values():
        for org in seed.orgs:
            issuer_id, issuer_key, issuer_name, _label = seed.issuer_keys[
                rng.choices(range(len(seed.issuer_keys)), issuer_weights)[0]
            ]
            subject = x509.Name(
                [
                    x509.NameAttribute(x509.NameOID.USER_ID, f"MST:{org.tax_code}"),
                    x509.NameAttribute(x509.NameOID.COMMON_NAME, _common_name(org.name)),
                    x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "VN"),
                ]
            )
            serial = rng.getrandbits(120) | (1 << 120)
            not_before = max(org.created_at, seed.now - datetime.timedelta(days=rng.randrange(30, 700)))
            cert = _certificate(
                subject,
                issuer_name,
                rng.choice(holder_keys),
                issuer_key,
                ca=False,
                serial=serial,
                not_before=not_before,
                years=3,
            )
            der = cert.public_bytes(serialization.Encoding.DER)
            fingerprint = hashlib.sha256(der).hexdigest()
            org.certificate, org.fingerprint = org.id, fingerprint
            family, given = person(rng)
            bound = not_before + datetime.timedelta(hours=2)
            seed.setup_events.append(
                (
                    bound,
                    "certificate.bound",
                    org.owner,
                    org.id,
                    "signatures.certificate",
                    org.id,
                    {"fingerprint": fingerprint, "serial": format(serial, "x")},
                )
            )
            yield (
                org.id,
                org.id,
                issuer_id,
                der,
                fingerprint,
                format(serial, "x"),
                cert.subject.rfc4514_string(),
                org.tax_code,
                cert.issuer.rfc4514_string(),
                cert.not_valid_before_utc,
                cert.not_valid_after_utc,
                f"{family} {given}",
                f"0{rng.randrange(1, 97):02d}{org.id:09d}",
                "Giám đốc",
                "active",
                org.owner,
                not_before,
                bound,
                bound,
                f"{CHALLENGE_PREFIX}:{org.tax_code}:{fingerprint[:16]}:{rng.getrandbits(128):032x}",
                not_before + datetime.timedelta(minutes=30),
            )

    table = Table(
        Certificate,
        (
            "id",
            "organization_id",
            "issuer_id",
            "der",
            "fingerprint_sha256",
            "serial_number",
            "subject",
            "subject_tax_code",
            "issuer_name",
            "not_before",
            "not_after",
            "signer_name",
            "signer_id_number",
            "signer_title",
            "status",
            "uploaded_by_id",
            "uploaded_at",
            "bound_at",
            "status_changed_at",
            "challenge",
            "challenge_expires_at",
        ),
    )
    written = table.copy(values())

    def custodians():
        number = 0
        for org in seed.orgs:
            for uid in org.signers:
                number += 1
                yield (number, org.certificate, uid, org.owner, org.created_at)

    written += Table(
        CertificateCustodian, ("id", "certificate_id", "user_id", "added_by_id", "added_at")
    ).copy(custodians())
    return written


def _common_name(name: str) -> str:
    """The name cut to the 64 bytes of UTF-8 a certificate's CN may hold (X.520 upper bound)."""
    while len(name.encode()) > 64:
        name = name[:-1]
    return name


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, serial: int, not_before, years: int):
    usage = x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_before + datetime.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
        .sign(signing_key, hashes.SHA256())
    )
