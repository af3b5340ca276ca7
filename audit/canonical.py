"""The canonical form of an audit event: the exact bytes that are hashed, defined here only.

UTF-8 JSON, keys sorted, no insignificant whitespace, non-ASCII characters as themselves;
timestamps in UTC ISO 8601 with microseconds and a ``Z``; ids as strings; absent values as
``null``. docs/audit-trail.md documents the same shape::

    {"action":"certificate.bound","actor":"12","context":{"channel":"portal","ip":"203.0.113.7",
     "request_id":"…","user_agent":"…"},"data":{…},"event_id":"<uuid>","occurred_at":
     "2026-11-23T10:08:04.123456Z","organization":"3","target":{"id":"41","type":"signatures.certificate"},"v":1}

``data`` may hold only strings, integers (|n| < 2**63), booleans, null, lists and objects with
string keys: floats are refused because their text form is not stable across databases.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from json.encoder import encode_basestring as _json_string  # what json.dumps(ensure_ascii=False) uses

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


def _string_or_null(value: str | None) -> str:
    return _json_string(value) if value else "null"


def canonical_from_text(
    event_id: str,
    occurred_at: str,
    action: str,
    actor_id: str | None,
    organization_id: str | None,
    target_type: str,
    target_id: str,
    data: str,
    channel: str,
    ip: str | None,
    user_agent: str,
    request_id: str,
) -> bytes:
    """The canonical bytes from the columns as text, ``data`` already canonical JSON.

    Written out by hand (keys in sorted order) because sealing and verification build one per
    event; ``canonical_event`` is the readable definition and a test holds the two equal.

    ``data`` goes in verbatim. Equal output still implies equal inputs, which the verifier relies
    on: reading forwards, every field before ``data`` is a self-delimiting token (escaped strings
    end at their first unescaped quote, ``null``, quoted digits); reading backwards from the fixed
    ``,"v":1}``, the fields after it are too (escaped strings start at the first quote not preceded
    by an odd run of backslashes; the uuid and timestamp have fixed lengths). So no byte can move
    between ``data`` and a neighbouring column without changing the result.
    """
    target = (
        f'{{"id":{_json_string(target_id)},"type":{_json_string(target_type)}}}' if target_type else "null"
    )
    return (
        f'{{"action":{_json_string(action)},"actor":{_string_or_null(actor_id)},'
        f'"context":{{"channel":{_json_string(channel)},"ip":{_string_or_null(ip)},'
        f'"request_id":{_json_string(request_id)},"user_agent":{_json_string(user_agent)}}},'
        f'"data":{data},"event_id":{_json_string(event_id)},"occurred_at":{_json_string(occurred_at)},'
        f'"organization":{_string_or_null(organization_id)},"target":{target},"v":{FORMAT_VERSION}}}'
    ).encode()


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
    """The canonical bytes of an event from its field values (``data`` as a dict, or as the
    canonical JSON text the database keeps)."""
    return canonical_json(
        {
            "v": FORMAT_VERSION,
            "event_id": str(event_id),
            "occurred_at": format_timestamp(occurred_at),
            "action": action,
            "actor": _id(actor_id),
            "organization": _id(organization_id),
            "target": {"type": target_type, "id": target_id} if target_type else None,
            "data": json.loads(data) if isinstance(data, str) else data,
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
