"""Tokens through PKCS#11, the interface every licensed CA's token driver provides (``python-pkcs11``).

Tokens are found by label, never by slot number: SoftHSM2 and some drivers give an initialised
token a new, large slot number. Empty slots and uninitialised tokens (SoftHSM2 always shows one)
are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from cryptography import x509
from pkcs11 import Attribute, ObjectClass, TokenFlag
from pkcs11.exceptions import PinIncorrect, PinLenRange, PinLocked, PKCS11Error

from csg_sign.errors import ToolError


@dataclass(frozen=True)
class CertificateOnToken:
    label: str
    id: bytes
    certificate: x509.Certificate


def load_module(path: str):
    # dlopen searches the library path for a name without a slash: a file in the current
    # directory is meant as that file.
    given = Path(path)
    try:
        return pkcs11.lib(str(given.resolve()) if given.is_file() else path)
    except PKCS11Error as error:
        # python-pkcs11 says "OS exception while loading <path>: <dlerror>", and dlerror says
        # "<file>: <why>": no such file, not a shared library, no C_GetFunctionList.
        dlerror = str(error).partition(": ")[2]
        reason = dlerror.split(": ", 1)[1] if ": " in dlerror else dlerror or "cannot be loaded"
        raise ToolError(f"{path} is not a PKCS#11 module ({reason})") from None


def tokens(module) -> list:
    found = []
    try:
        for slot in module.get_slots(token_present=True):
            try:
                token = slot.get_token()
            except PKCS11Error:
                continue  # a reader whose card was pulled out while we looked
            if token.flags & TokenFlag.TOKEN_INITIALIZED:
                found.append(token)
    except PKCS11Error as error:
        raise ToolError(f"the PKCS#11 module cannot list its tokens ({type(error).__name__})") from None
    return found


def find_token(module, label: str | None):
    available = tokens(module)
    if not available:
        raise ToolError("no token found: plug the token in, or check the --pkcs11-module path")
    if label is None:
        if len(available) > 1:
            raise ToolError(
                "several tokens are present; choose one with --token-label: " + _labels(available)
            )
        return available[0]
    for token in available:
        if token.label == label:
            return token
    raise ToolError(f"no token labelled '{label}' (present: {_labels(available)})")


def _labels(items) -> str:
    return ", ".join(sorted(f"'{item.label}'" for item in items))


def open_session(token, ask_pin: Callable[[str], str]):
    """A session logged in as the token's user. A locked PIN, and a PIN on its last try, are refused
    before anything is sent: a wrong guess on the last try would lock the token for good."""
    flags = token.flags
    if flags & TokenFlag.USER_PIN_LOCKED:
        raise ToolError(_locked(token))
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        raise ToolError(
            f"the PIN of token '{token.label}' has one try left; csg-sign will not risk locking it. "
            "Check the PIN with your CA's token tool first"
        )
    try:
        if flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH:  # a PIN pad on the reader
            return token.open(user_pin=pkcs11.PROTECTED_AUTH)
        return token.open(user_pin=ask_pin(f"PIN for token '{token.label}': "))
    except (PinIncorrect, PinLenRange):
        raise ToolError(f"wrong PIN for token '{token.label}'") from None
    except PinLocked:
        raise ToolError(_locked(token)) from None
    except PKCS11Error as error:
        raise ToolError(f"cannot log in to token '{token.label}' ({type(error).__name__})") from None


def _locked(token) -> str:
    return (
        f"the PIN of token '{token.label}' is locked after too many wrong tries; "
        "unlock it with your CA's token tool (it needs the PUK / SO PIN)"
    )


def certificates(session) -> list[CertificateOnToken]:
    found = []
    for item in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        try:
            certificate = x509.load_der_x509_certificate(bytes(item[Attribute.VALUE]))
        except ValueError:
            continue  # not an X.509 certificate (attribute certificates, vendor objects)
        found.append(CertificateOnToken(_text(item, Attribute.LABEL), _id(item), certificate))
    return found


def private_keys(session) -> Iterator[tuple[str, bytes]]:
    for item in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.SIGN: True}):
        yield _text(item, Attribute.LABEL), _id(item)


def _text(item, attribute) -> str:
    try:
        return str(item[attribute])
    except PKCS11Error:
        return ""


def _id(item) -> bytes:
    try:
        return bytes(item[Attribute.ID])
    except PKCS11Error:
        return b""


def signing_key(session, token_label: str, key_label: str | None, prefer=None) -> CertificateOnToken:
    """The private key labelled ``key_label`` (or the token's only one), named by its own label and
    ID, with its certificate, which PKCS#11 pairs with it by CKA_ID. Among several keys and no label,
    ``prefer`` (a test of the certificate) may pick exactly one."""
    try:
        keys = list(private_keys(session))
        paired = {item.id: item for item in certificates(session)}
    except PKCS11Error as error:
        raise ToolError(f"cannot read token '{token_label}' ({type(error).__name__})") from None
    if key_label is not None:
        candidates = [key for key in keys if key[0] == key_label]
        if not candidates:
            # Sorted: a token lists its objects in no set order.
            present = ", ".join(sorted(f"'{label}'" for label, _ in keys)) or "none"
            raise ToolError(f"no key labelled '{key_label}' on token '{token_label}' (keys: {present})")
    else:
        candidates = keys
        if not candidates:
            raise ToolError(f"no signing key on token '{token_label}'")
    usable = [
        CertificateOnToken(label, key_id, paired[key_id].certificate)
        for label, key_id in candidates
        if key_id and key_id in paired
    ]
    if not usable:
        raise ToolError(f"the key on token '{token_label}' has no certificate beside it (same CKA_ID)")
    if len(usable) > 1 and prefer is not None:
        usable = [item for item in usable if prefer(item.certificate)] or usable
    if len(usable) > 1:
        labels = ", ".join(sorted(f"'{item.label}'" for item in usable))
        raise ToolError(f"several keys on token '{token_label}'; choose one with --key-label: {labels}")
    return usable[0]
