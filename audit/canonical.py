"""The canonical form of an audit event: the exact bytes that are hashed, defined here only.

UTF-8 JSON, keys sorted, no insignificant whitespace, non-ASCII characters as themselves;
timestamps in UTC ISO 8601 with microseconds and a ``Z``; ids as strings; absent values as
``null``. The README documents the same shape::

    {"action":"certificate.bound","actor":"12","context":{"channel":"portal","ip":"203.0.113.7",
     "request_id":"…","user_agent":"…"},"data":{…},"event_id":"<uuid>","occurred_at":
     "2026-11-23T10:08:04.123456Z","organization":"3","target":{"id":"41","type":"signatures.certificate"},"v":1}

``data`` may hold only strings, integers (|n| < 2**63), booleans, null, lists and objects with
string keys: floats are refused because their text form is not stable across databases.
"""

from __future__ import annotations

import datetime
import hashlib
import re

from audit.verify_receipt import canonical_json

FORMAT_VERSION = 1
ZERO_HASH = bytes(32)
_INT_LIMIT = 2**63
_SECRET_KEY_NAME = re.compile(r"pass(word|wd|phrase)?|secret|private|api[-_]?key|token|otp", re.IGNORECASE)


class AuditDataError(ValueError):
    """The data given to an audit event cannot be stored faithfully."""


def format_timestamp(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        raise AuditDataError("audit timestamps must be timezone-aware")
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def validate_data(value, path: str = "data") -> None:
    """Refuse what would not round-trip byte for byte through PostgreSQL jsonb and SQLite JSON,
    and keys that suggest a secret is being written into the permanent record."""
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str) and "\x00" in value:
            raise AuditDataError(f"{path}: NUL characters cannot be stored")
        return
    if isinstance(value, int):
        if not -_INT_LIMIT < value < _INT_LIMIT:
            raise AuditDataError(f"{path}: integer out of range")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            validate_data(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditDataError(f"{path}: keys must be strings")
            if _SECRET_KEY_NAME.search(key):
                raise AuditDataError(f"{path}.{key}: secrets never go into the audit trail")
            validate_data(item, f"{path}.{key}")
        return
    raise AuditDataError(f"{path}: {type(value).__name__} is not allowed (use a string)")


def _id(value) -> str | None:
    return None if value is None or value == "" else str(value)


def canonical_event(
    *,
    event_id,
    occurred_at: datetime.datetime,
    action: str,
    actor_id,
    organization_id,
    target_type: str,
    target_id: str,
    data,
    channel: str,
    ip: str,
    user_agent: str,
    request_id: str,
) -> bytes:
    return canonical_json(
        {
            "v": FORMAT_VERSION,
            "event_id": str(event_id),
            "occurred_at": format_timestamp(occurred_at),
            "action": action,
            "actor": _id(actor_id),
            "organization": _id(organization_id),
            "target": {"type": target_type, "id": target_id} if target_type else None,
            "data": data,
            "context": {
                "channel": channel,
                "ip": ip or None,
                "user_agent": user_agent,
                "request_id": request_id,
            },
        }
    )


def leaf_and_chain(prev_chain_hash: bytes, canonical: bytes) -> tuple[bytes, bytes]:
    """RFC 6962 leaf hash, and the chain hash SHA-256(prev ‖ canonical)."""
    return hashlib.sha256(b"\x00" + canonical).digest(), hashlib.sha256(prev_chain_hash + canonical).digest()
