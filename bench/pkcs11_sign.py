"""csg-sign on a token: signatures per second with SoftHSM2, ECDSA P-256 and RSA-2048 (issue #21).

    .venv/bin/python bench/pkcs11_sign.py [--seconds 5] [--size 20000]

Makes a throw-away SoftHSM2 token in a temporary directory (its own ``SOFTHSM2_CONF``), imports an
ECDSA P-256 and an RSA-2048 key with self-issued certificates, logs in once, and signs a document of
``--size`` bytes over and over for ``--seconds`` per key type through csg-sign's own path (pyHanko's
``PKCS11Signer``: SHA-256, signed attributes, the certificate included). The same with a ``.p12``
(pyHanko's ``SimpleSigner``) shows what the PKCS#11 round trips cost. Prints signatures per second
and the median time of one; nothing is asserted. Needs ``softhsm2`` and ``opensc``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODULE = os.environ.get("SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
PIN = "246810"
KEYS = {"ecdsa-p256": lambda: ec.generate_private_key(ec.SECP256R1()), "rsa-2048": lambda: _rsa()}


def _rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(key, name: str) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.USER_ID, "MST:0100686209"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


def _token(directory: Path, identities: dict) -> None:
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # before this process loads the module

    def run(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True)

    run("softhsm2-util", "--init-token", "--free", "--label", "bench", "--so-pin", "87654321", "--pin", PIN)
    for number, (label, (key, certificate)) in enumerate(identities.items(), start=1):
        key_file, cert_file = directory / f"{label}.key", directory / f"{label}.der"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
        key_id = f"{number:02x}"
        run("softhsm2-util", "--import", str(key_file), "--token", "bench", "--label", label, "--id", key_id,
            "--pin", PIN)  # fmt: skip
        run("pkcs11-tool", "--module", MODULE, "--token-label", "bench", "--login", "--pin", PIN,
            "--write-object", str(cert_file), "--type", "cert", "--id", key_id, "--label", label)  # fmt: skip


def _measure(signer, document: bytes, seconds: float) -> tuple[float, float]:
    from csg_sign.cms import sign_detached

    sign_detached(signer, document)  # warm-up: the first signature loads the key and certificate
    times: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        begin = time.perf_counter()
        sign_detached(signer, document)
        times.append(time.perf_counter() - begin)
    return len(times) / sum(times), statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="signing time per key type")
    parser.add_argument("--size", type=int, default=20_000, help="document size in bytes")
    options = parser.parse_args()
    document = os.urandom(options.size)
    identities = {}
    for label, make in KEYS.items():
        key = make()
        identities[label] = (key, _certificate(key, f"bench {label}"))

    with tempfile.TemporaryDirectory() as directory:
        _token(Path(directory), identities)
        from csg_sign import cms, tokens

        token = tokens.find_token(tokens.load_module(MODULE), "bench")
        print(f"{options.size} bytes signed for {options.seconds:g} s per key type, one session, one thread")
        with tokens.open_session(token, lambda _prompt: PIN) as session:
            for label in identities:
                key = tokens.signing_key(session, "bench", label)
                rate, median = _measure(cms.token_signer(session, key), document, options.seconds)
                print(f"  PKCS#11 (SoftHSM2) {label:11} {rate:8.1f} signatures/s   median {median:6.2f} ms")
        for label, (key, certificate) in identities.items():
            p12 = Path(directory) / f"{label}.p12"
            p12.write_bytes(
                pkcs12.serialize_key_and_certificates(
                    b"bench", key, certificate, None, serialization.BestAvailableEncryption(PIN.encode())
                )
            )
            signer, _certificate_of = cms.pkcs12_signer(p12, PIN)
            rate, median = _measure(signer, document, options.seconds)
            print(f"  PKCS#12 (.p12)     {label:11} {rate:8.1f} signatures/s   median {median:6.2f} ms")


if __name__ == "__main__":
    main()
