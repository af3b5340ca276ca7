"""The canonical form of an audit event: the exact bytes that are hashed, defined here only.

UTF-8 JSON, keys sorted, no insignificant whitespace, non-ASCII characters as themselves;
timestamps in UTC ISO 8601 with microseconds and a ``Z``; ids as strings; absent values as
``null``. docs/audit-trail.md documents the same shape::

    {"action":"certificate.bound","actor":"12","context":{"channel":"portal","commitment":"<64 hex>"},
     "data":{…},"event_id":"<uuid>","occurred_at":"2026-11-23T10:08:04.123456Z","organization":"3",
     "target":{"id":"41","type":"signatures.certificate"},"v":2}

Format 2 commits to the event's network details (IP address, user agent, request id) through a
salted hash (``audit.verify_receipt.network_commitment``) instead of carrying them, so a receipt
can be handed to the organisation an event was recorded for without telling it where another
organisation's staff, or an officer, worked from; whoever may see them gets the salt and values
with the receipt and checks them against the commitment. Events recorded before it (no salt)
keep format 1, which carries the three values in ``context`` in the clear.

``data`` may hold only strings, integers (|n| < 2**63), booleans, null, lists and objects with
string keys: floats are refused because their text form is not stable across databases.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
from json.encoder import encode_basestring as _json_string  # what json.dumps(ensure_ascii=False) uses

from audit.verify_receipt import canonical_json, network_commitment

FORMAT_VERSION = 2
SALT_SIZE = 16
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
    network_salt: bytes | memoryview | None,
) -> bytes:
    """The canonical bytes from the columns as text, ``data`` already canonical JSON, in format 2
    when the event has a salt and in format 1 when it has none.

    Written out by hand (keys in sorted order) because sealing and verification build one per
    event; ``canonical_event`` is the readable definition and a test holds the two equal.

    ``data`` goes in verbatim. Equal output still implies equal inputs, which the verifier relies
    on: reading forwards, every field before ``data`` is a self-delimiting token (escaped strings
    end at their first unescaped quote, ``null``, quoted digits, 64 hex digits); reading backwards
    from the fixed ``,"v":N}``, the fields after it are too (escaped strings start at the first
    quote not preceded by an odd run of backslashes; the uuid and timestamp have fixed lengths).
    So no byte can move between ``data`` and a neighbouring column without changing the result;
    in format 2 the three network values are bound through the commitment, whose input is the
    fixed-size salt followed by the same self-delimiting JSON as format 1's.
    """
    target = (
        f'{{"id":{_json_string(target_id)},"type":{_json_string(target_type)}}}' if target_type else "null"
    )
    network = (
        f'"ip":{_string_or_null(ip)},"request_id":{_json_string(request_id)},'
        f'"user_agent":{_json_string(user_agent)}'
    )
    if network_salt is None:
        context, version = f'{{"channel":{_json_string(channel)},{network}}}', 1
    else:
        commitment = hashlib.sha256(bytes(network_salt) + f"{{{network}}}".encode()).hexdigest()
        context, version = (
            f'{{"channel":{_json_string(channel)},"commitment":"{commitment}"}}',
            FORMAT_VERSION,
        )
    return (
        f'{{"action":{_json_string(action)},"actor":{_string_or_null(actor_id)},"context":{context},'
        f'"data":{data},"event_id":{_json_string(event_id)},"occurred_at":{_json_string(occurred_at)},'
        f'"organization":{_string_or_null(organization_id)},"target":{target},"v":{version}}}'
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
    network_salt: bytes | None,
) -> bytes:
    """The canonical bytes of an event from its field values (``data`` as a dict, or as the
    canonical JSON text the database keeps): format 2 with a salt, format 1 without."""
    if network_salt is None:
        context, version = {"ip": ip or None, "user_agent": user_agent, "request_id": request_id}, 1
    else:
        context = {"commitment": network_commitment(bytes(network_salt), ip or None, user_agent, request_id)}
        version = FORMAT_VERSION
    return canonical_json(
        {
            "v": version,
            "event_id": str(event_id),
            "occurred_at": format_timestamp(occurred_at),
            "action": action,
            "actor": _id(actor_id),
            "organization": _id(organization_id),
            "target": {"type": target_type, "id": target_id} if target_type else None,
            "data": json.loads(data) if isinstance(data, str) else data,
            "context": {"channel": channel, **context},
        }
    )


def network_opening(*, network_salt: bytes | None, ip: str, user_agent: str, request_id: str) -> dict | None:
    """What a receipt adds for a reader who may see where an event came from: the salt and the
    three values its commitment hides (``None`` for a format-1 event, which carries them)."""
    if network_salt is None:
        return None
    return {
        "salt": base64.b64encode(bytes(network_salt)).decode("ascii"),
        "ip": ip or None,
        "user_agent": user_agent,
        "request_id": request_id,
    }


def leaf_and_chain(prev_chain_hash: bytes, canonical: bytes) -> tuple[bytes, bytes]:
    """RFC 6962 leaf hash, and the chain hash SHA-256(prev ‖ canonical)."""
    return hashlib.sha256(b"\x00" + canonical).digest(), hashlib.sha256(prev_chain_hash + canonical).digest()
