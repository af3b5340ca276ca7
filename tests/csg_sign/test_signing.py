"""csg-sign list and sign on a real SoftHSM2 token and with a .p12: signatures the server's verifier
and ``openssl cms -verify`` both accept over the document, and refuse over a changed one."""

from __future__ import annotations

import base64
import datetime
import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from signatures.cms import SignatureError, verify_detached
from tests.csg_sign.conftest import P12_PASSPHRASE, ROOT, write_p12
from tests.signatures.pki_factory import OPENSSL

DOCUMENT = "<ToKhai so='10123456789'><Loai>import</Loai><Ten>Hòa Bình</Ten></ToKhai>".encode()


def openssl_verify(directory: Path, signature: bytes, document: bytes, pki) -> subprocess.CompletedProcess:
    (directory / "check.p7s").write_bytes(signature)
    (directory / "check.xml").write_bytes(document)
    (directory / "ca.pem").write_bytes(pki.root.cert_pem + pki.intermediate.cert_pem)
    return subprocess.run(
        [OPENSSL, "cms", "-verify", "-binary", "-inform", "DER", "-in", "check.p7s", "-content", "check.xml",
         "-CAfile", "ca.pem", "-purpose", "any", "-out", "/dev/null"],
        cwd=directory, capture_output=True, text=True,
    )  # fmt: skip


def sign_with_token(token, key_label: str, *extra: str) -> subprocess.CompletedProcess:
    (token.directory / "declaration.xml").write_bytes(DOCUMENT)
    return token.run("sign", "declaration.xml", "-o", "declaration.p7s", *token.token_args(key_label), *extra)


@pytest.mark.parametrize(("key_label", "algorithm"), [("ec", "sha256_ecdsa"), ("rsa", "sha256_rsa")])
def test_a_token_signature_is_accepted_by_the_server_and_by_openssl_and_refused_over_a_changed_document(
    token, pki, key_label, algorithm
):
    result = sign_with_token(token, key_label)

    assert result.returncode == 0, result.stderr
    signature = (token.directory / "declaration.p7s").read_bytes()
    verified = verify_detached(signature, DOCUMENT)
    assert verified.signer_certificate == token.keys[key_label].certificate
    assert verified.digest_algorithm == "sha256"
    assert openssl_verify(token.directory, signature, DOCUMENT, pki).returncode == 0
    signer_info = asn1_cms.ContentInfo.load(signature)["content"]["signer_infos"][0]
    # RSA PKCS#1 v1.5 (sha256WithRSAEncryption), never PSS; ECDSA with SHA-256.
    assert signer_info["signature_algorithm"]["algorithm"].native == algorithm
    changed = DOCUMENT.replace(b"10123456789", b"10123456780")
    with pytest.raises(SignatureError) as refused:
        verify_detached(signature, changed)
    assert refused.value.code == "signature_digest_mismatch"
    assert openssl_verify(token.directory, signature, changed, pki).returncode != 0


def test_the_signature_is_detached_sha256_with_content_type_digest_signing_time_and_the_certificate(token):
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    assert sign_with_token(token, "ec").returncode == 0

    signed_data = asn1_cms.ContentInfo.load((token.directory / "declaration.p7s").read_bytes())["content"]
    assert signed_data["encap_content_info"]["content"].native is None  # detached
    signer_info = signed_data["signer_infos"][0]
    attributes = {
        attribute["type"].native: attribute["values"][0] for attribute in signer_info["signed_attrs"]
    }
    assert attributes["content_type"].native == "data"
    assert attributes["message_digest"].native == hashlib.sha256(DOCUMENT).digest()
    assert before <= attributes["signing_time"].native <= datetime.datetime.now(datetime.UTC)
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    carried = [choice.chosen.dump() for choice in signed_data["certificates"]]
    assert token.keys["ec"].cert_der in carried


def test_base64_output_is_what_the_api_takes(token):
    result = sign_with_token(token, "rsa", "--base64")

    assert result.returncode == 0, result.stderr
    signature = base64.b64decode((token.directory / "declaration.p7s").read_bytes(), validate=False)
    assert verify_detached(signature, DOCUMENT).signer_certificate == token.keys["rsa"].certificate


def test_a_p12_signature_is_accepted_by_the_server_and_by_openssl(token, pki):
    identity = pki.signer(key="p256", slot=72)
    write_p12(token.directory / "company.p12", identity, [pki.intermediate.certificate])
    (token.directory / "declaration.xml").write_bytes(DOCUMENT)

    result = token.run(
        "sign", "declaration.xml", "-o", "declaration.p7s", "--pkcs12", "company.p12", "--pin-env", "P12",
        env={"P12": P12_PASSPHRASE},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    signature = (token.directory / "declaration.p7s").read_bytes()
    assert verify_detached(signature, DOCUMENT).signer_certificate == identity.certificate
    assert openssl_verify(token.directory, signature, DOCUMENT, pki).returncode == 0
    with pytest.raises(SignatureError):
        verify_detached(signature, DOCUMENT + b"\n")


def test_the_pin_prompt_reads_the_pin_when_no_variable_names_one(token):
    (token.directory / "declaration.xml").write_bytes(DOCUMENT)
    argv = ["--pkcs11-module", str(token.module), "--key-label", "ec"]

    result = token.run("sign", "declaration.xml", "-o", "declaration.p7s", *argv, stdin="246810\n")

    assert result.returncode == 0, result.stderr
    assert "246810" not in result.stdout + result.stderr


def test_list_shows_each_token_and_its_certificates_with_tax_code_issuer_and_validity(token, pki):
    # SoftHSM2 moves the token to a large slot number and always shows one uninitialised token:
    # a second token is found by its label and the uninitialised one is not listed.
    token.init("csg-second")
    token.put("broker", pki.broker, "0a", token="csg-second")

    result = token.run("list", "--pkcs11-module", str(token.module), "--pin-env", "TOKEN_PIN")

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("token '") == 2
    assert "token 'csg-test'" in result.stdout and "token 'csg-second'" in result.stdout
    ec = token.keys["ec"].certificate
    assert "certificate 'ec' id 01" in result.stdout
    assert "certificate 'broker' id 0a" in result.stdout
    assert f"subject   {ec.subject.rfc4514_string()}" in result.stdout
    assert "tax code  0100686209" in result.stdout and "tax code  0301234562" in result.stdout
    assert f"issuer    {pki.intermediate.certificate.subject.rfc4514_string()}" in result.stdout
    assert (
        f"valid     {ec.not_valid_before_utc:%Y-%m-%d %H:%M} to {ec.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
        in (result.stdout)
    )
    assert "key       on the token" in result.stdout


def test_a_token_is_chosen_by_label_among_several(token, pki):
    token.init("csg-second")
    token.put("broker", pki.broker, "0a", token="csg-second")
    (token.directory / "declaration.xml").write_bytes(DOCUMENT)
    argv = ["--pkcs11-module", str(token.module), "--token-label", "csg-second", "--pin-env", "TOKEN_PIN"]

    result = token.run("sign", "declaration.xml", "-o", "declaration.p7s", *argv)

    assert result.returncode == 0, result.stderr
    signature = (token.directory / "declaration.p7s").read_bytes()
    assert verify_detached(signature, DOCUMENT).signer_certificate == pki.broker.certificate


# --- what csg-sign is -----------------------------------------------------------------------------


def test_csg_sign_is_a_console_script_that_imports_no_django_and_no_app():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["csg-sign"] == "csg_sign.cli:main"
    probe = (
        "import sys, csg_sign.cli, csg_sign.api, csg_sign.cms, csg_sign.tokens\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework', 'core', 'audit', "
        "'accounts', 'brokers', 'signatures', 'risk', 'officers', 'config'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.stdout.strip() == "[]"


def test_a_pin_on_the_command_line_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "csg_sign", "sign", "x", "-o", "y", "--pkcs11-module", "m", "--pin", "1234"],
        capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "unrecognized arguments: --pin 1234" in result.stderr


def test_list_without_a_pin_shows_the_public_certificates_and_logs_in_to_nothing(token):
    result = token.run("list", "--pkcs11-module", str(token.module))

    assert result.returncode == 0, result.stderr
    assert "certificate 'ec' id 01" in result.stdout and "certificate 'rsa' id 02" in result.stdout
    assert "key       " not in result.stdout


def test_a_p12_without_a_passphrase_opens_with_an_empty_answer(token, pki):
    identity = pki.signer(key="p256", slot=72)
    (token.directory / "open.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"csg", identity.key, identity.certificate, None, serialization.NoEncryption()
        )
    )
    (token.directory / "declaration.xml").write_bytes(DOCUMENT)

    result = token.run("sign", "declaration.xml", "-o", "declaration.p7s", "--pkcs12", "open.p12", stdin="\n")

    assert result.returncode == 0, result.stderr
    signature = (token.directory / "declaration.p7s").read_bytes()
    assert verify_detached(signature, DOCUMENT).signer_certificate == identity.certificate
