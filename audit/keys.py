"""The server's Ed25519 checkpoint-signing key and the public keys checkpoints verify against.

Trust comes from configuration, never from the database: an attacker who can write the audit
tables must not be able to swap in a key of their own.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.verify_receipt import key_id


def generate_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_private_key(path: Path) -> Ed25519PrivateKey:
    """Write a new key readable only by its owner; refuse to overwrite an existing one."""
    pem = generate_private_key_pem()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return serialization.load_pem_private_key(pem, password=None)


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _parse_private_key(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{where}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{where}: the audit signing key must be Ed25519")
    return key


@functools.cache
def signing_key() -> Ed25519PrivateKey:
    if settings.AUDIT_SIGNING_KEY:
        return _parse_private_key(settings.AUDIT_SIGNING_KEY.encode(), "AUDIT_SIGNING_KEY")
    # Development only (settings refuse to start without a key when DEBUG is off): one key per
    # data directory, generated on first use and kept.
    path = Path(settings.AUDIT_SIGNING_KEY_PATH)
    try:
        return write_private_key(path)
    except FileExistsError:
        return _parse_private_key(path.read_bytes(), str(path))


def signing_key_id() -> str:
    return key_id(signing_key().public_key())


@functools.cache
def trusted_public_keys() -> dict[str, Ed25519PublicKey]:
    """The current key and every retired key configured in ``AUDIT_RETIRED_PUBLIC_KEYS``, by key id."""
    keys = {signing_key_id(): signing_key().public_key()}
    for file_name in settings.AUDIT_RETIRED_PUBLIC_KEYS:
        try:
            key = serialization.load_pem_public_key(Path(file_name).read_bytes())
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(
                f"AUDIT_RETIRED_PUBLIC_KEYS: cannot load {file_name!r} ({exc})"
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise ImproperlyConfigured(
                f"AUDIT_RETIRED_PUBLIC_KEYS: {file_name!r} is not an Ed25519 public key"
            )
        keys.setdefault(key_id(key), key)
    return keys


def reset_caches() -> None:
    """For tests and key rotation within one process."""
    signing_key.cache_clear()
    trusted_public_keys.cache_clear()
