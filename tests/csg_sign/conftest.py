"""A real software token for csg-sign: each test gets its own SoftHSM2 token store (its own
``SOFTHSM2_CONF``) holding an ECDSA P-256 and an RSA-2048 key imported with ``softhsm2-util``, and
their certificates from the test CA written with OpenSC's ``pkcs11-tool``.

csg-sign runs as the user runs it, in a process of its own (``python -m csg_sign``): a PKCS#11
module reads its configuration once per process, so a token store per test needs a process per run.

Without SoftHSM2 or OpenSC the tests are skipped, except under ``CI=true`` where they fail: CI
installs both (``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.signatures.pki_factory import Identity

ROOT = Path(__file__).resolve().parents[2]
SOFTHSM_MODULE = Path(os.environ.get("SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so"))
SO_PIN, PIN = "87654321", "246810"
P12_PASSPHRASE = "mật khẩu tệp p12"


def _missing_tools() -> list[str]:
    missing = [tool for tool in ("softhsm2-util", "pkcs11-tool") if shutil.which(tool) is None]
    return missing + ([] if SOFTHSM_MODULE.exists() else [str(SOFTHSM_MODULE)])


@pytest.fixture(scope="session")
def softhsm() -> Path:
    missing = _missing_tools()
    if missing:
        reason = f"SoftHSM2/OpenSC missing ({', '.join(missing)}): apt-get install softhsm2 opensc"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must install them")
        pytest.skip(reason)
    return SOFTHSM_MODULE


@dataclass
class Token:
    """A SoftHSM2 token store with one initialised token; ``run`` calls csg-sign against it."""

    directory: Path
    module: Path
    label: str = "csg-test"
    keys: dict[str, Identity] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SOFTHSM2_CONF": str(self.directory / "softhsm2.conf"),
            "TOKEN_PIN": PIN,
            **self.extra_env,
        }

    def tool(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, env=self.env, check=True, capture_output=True, text=True)

    def init(self, label: str) -> None:
        self.tool(
            "softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", PIN
        )

    def put(self, label: str, identity: Identity, key_id: str, *, token: str | None = None) -> None:
        """The key (imported, PKCS#8) and its certificate, paired by CKA_ID as tokens pair them."""
        token = token or self.label
        key_file, cert_file = self.directory / f"{label}.key", self.directory / f"{label}.der"
        key_file.write_bytes(identity.key_pem)
        cert_file.write_bytes(identity.cert_der)
        self.tool(
            "softhsm2-util",
            "--import",
            str(key_file),
            "--token",
            token,
            "--label",
            label,
            "--id",
            key_id,
            "--pin",
            PIN,
        )
        key_file.unlink()
        self.tool(
            "pkcs11-tool",
            "--module",
            str(SOFTHSM_MODULE),
            "--token-label",
            token,
            "--login",
            "--pin",
            PIN,
            "--write-object",
            str(cert_file),
            "--type",
            "cert",
            "--id",
            key_id,
            "--label",
            label,
        )
        self.keys[label] = identity

    def run(
        self, *argv: str, env: dict[str, str] | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "csg_sign", *argv],
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.directory,
        )

    def token_args(self, key_label: str | None = None, module: Path | None = None) -> list[str]:
        argv = [
            "--pkcs11-module",
            str(module or self.module),
            "--token-label",
            self.label,
            "--pin-env",
            "TOKEN_PIN",
        ]
        return argv + (["--key-label", key_label] if key_label else [])


def new_store(directory: Path, module: Path) -> Token:
    (directory / "tokens").mkdir(parents=True)
    (directory / "softhsm2.conf").write_text(
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    return Token(directory=directory, module=module)


@pytest.fixture
def empty_store(softhsm, tmp_path) -> Token:
    """A token store where SoftHSM2 shows only its uninitialised token."""
    return new_store(tmp_path / "hsm", softhsm)


@pytest.fixture
def token(softhsm, tmp_path, pki) -> Token:
    """A token labelled ``csg-test`` with the trader's ECDSA P-256 key (``ec``, id 01) and RSA-2048
    key (``rsa``, id 02), both certified by the test CA."""
    store = new_store(tmp_path / "hsm", softhsm)
    store.init(store.label)
    store.put("ec", pki.signer(key="p256", slot=70), "01")
    store.put("rsa", pki.signer(slot=71), "02")
    return store


def write_p12(path: Path, identity: Identity, chain=(), passphrase: str = P12_PASSPHRASE) -> Path:
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"csg",
            identity.key,
            identity.certificate,
            list(chain),
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    return path


@pytest.fixture(scope="session")
def locking_module(softhsm, tmp_path_factory) -> Path:
    """tests/csg_sign/locking_token.c built: SoftHSM2 behind a PIN retry counter, as USB tokens have."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no C compiler to build the locking token; CI must install gcc")
        pytest.skip("no C compiler (cc) to build the locking token")
    target = tmp_path_factory.mktemp("locking") / "locking_token.so"
    source = Path(__file__).with_name("locking_token.c")
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(target), str(source), "-ldl"], check=True)
    return target
