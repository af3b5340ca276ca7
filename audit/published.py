"""Checkpoints kept outside the database, and the check of the trail against them.

A deleted or truncated trail verifies as a shorter, still consistent one: only something the
database does not hold can say how long it was. ``audit_checkpoint_export`` writes the newest
checkpoint with its witness co-signatures as a JSON document (as receipts carry it); the operator
keeps each on storage the application cannot rewrite (another host, a bucket with a retention
lock). ``verify_audit --published FILE`` then fails when the trail is shorter than such a
checkpoint or differs from it, and an empty trail after published checkpoints is INVALID.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from audit.models import AuditCheckpoint
from audit.verification_chunks import Problem
from audit.verify_receipt import InputError, canonical_json


def published_checkpoint_load(path: str | Path) -> dict:
    """A checkpoint document as ``audit_checkpoint_export`` wrote it; ``InputError`` if unreadable."""
    try:
        document = json.loads(Path(path).read_text())
        body = document["body"]
        signature = base64.b64decode(document["signature"], validate=True)
        sequence, tree_size = int(body["sequence"]), int(body["tree_size"])
        witnesses = [
            (witness["key_id"], base64.b64decode(witness["signature"], validate=True))
            for witness in document.get("witnesses", [])
        ]
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from None
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InputError(
            f"{path} is not a checkpoint document (audit_checkpoint_export writes one)"
        ) from None
    return {"path": str(path), "body": body, "signature": signature, "sequence": sequence,
            "tree_size": tree_size, "witnesses": witnesses}  # fmt: skip


def published_problems(
    published: list[dict],
    checkpoints: list[AuditCheckpoint],
    sealed_events: int,
    trusted: dict[str, Ed25519PublicKey],
    witness_keys: dict[str, Ed25519PublicKey],
) -> list[Problem]:
    """What the trail in the database contradicts of each published checkpoint."""
    problems = []
    by_sequence = {checkpoint.sequence: checkpoint for checkpoint in checkpoints}
    for document in published:
        body, sequence = document["body"], document["sequence"]
        where = f"published checkpoint #{sequence} ({document['path']})"
        if body.get("log") != settings.AUDIT_LOG_ID:
            problems.append(Problem(where, f"is for log {body.get('log')!r}, not {settings.AUDIT_LOG_ID!r}"))
            continue
        if not _verifies(trusted.get(body.get("key_id")), document["signature"], body):
            problems.append(Problem(where, "its signature does not verify with a trusted audit key"))
            continue
        for key_id, signature in document["witnesses"]:
            if key_id in witness_keys and not _verifies(witness_keys[key_id], signature, body):
                problems.append(Problem(where, f"witness {key_id} signature does not verify"))
        if document["tree_size"] > sealed_events:
            problems.append(
                Problem(
                    where,
                    f"covers {document['tree_size']} events but the trail holds {sealed_events}: "
                    "events were removed",
                )
            )
            continue
        stored = by_sequence.get(sequence)
        if stored is None or (
            stored.tree_size,
            bytes(stored.root_hash).hex(),
            bytes(stored.chain_hash).hex(),
        ) != (document["tree_size"], body.get("root_hash"), body.get("chain_hash")):
            problems.append(
                Problem(where, "the trail's checkpoint with this number differs: it was rewritten")
            )
    return problems


def _verifies(key: Ed25519PublicKey | None, signature: bytes, body: dict) -> bool:
    if key is None:
        return False
    try:
        key.verify(signature, canonical_json(body))
    except InvalidSignature:
        return False
    return True
