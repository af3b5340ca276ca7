"""Sealing the audit trail: hash-chaining committed events, storing the Merkle tree's nodes and
closing signed checkpoints. ``audit_seal`` is the only sealer: the after-commit task, the sweep,
``seal_audit`` and the scale seed all call it."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import keys, selectors
from audit.canonical import leaf_and_chain
from audit.merkle import merkle_root
from audit.models import AuditCheckpoint, AuditEvent, AuditSealState, AuditTreeNode
from audit.selectors import (
    AuditNotSealed,
    audit_network_visible_to,
    audit_receipt_build,
    checkpoint_body_bytes,
    checkpoint_latest,
    tree_items,
    tree_root,
    unsealed_canonical_rows,
)
from core.errors import ApplicationError

# Set while a seal is queued, so a burst of commits queues one (audit.services.events).
SEAL_QUEUED_KEY = "audit:seal-queued"


def _now() -> datetime.datetime:
    return timezone.now()


@dataclass
class SealResult:
    sealed: int = 0
    checkpoints: list[int] = field(default_factory=list)
    tree_size: int = 0


def _lock_state() -> AuditSealState:
    # On PostgreSQL the row lock serialises sealers in every process; on SQLite the IMMEDIATE
    # transaction already holds the database's single write lock. The row comes from a migration;
    # only a flushed (test) database lacks it.
    AuditSealState.objects.get_or_create(pk=1)
    return AuditSealState.objects.select_for_update().get(pk=1)


def _write_seals(rows: list[tuple[int, int, bytes, bytes]], sealed_at: datetime.datetime) -> None:
    if connection.vendor == "postgresql":
        # One statement per batch (bulk_update's CASE chains are far slower at this size), with
        # server-side binding so the hash arrays travel in binary instead of escaped text.
        # No "position IS NULL" here: with it, stale statistics after a backlog make the planner
        # hash-join every unsealed row for each batch (quadratic); the rows were selected unsealed
        # under the sealer lock in this transaction, and the trigger refuses resealing anyway.
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"""
                UPDATE {AuditEvent._meta.db_table} AS e
                   SET position = v.position, chain_hash = v.chain_hash,
                       leaf_hash = v.leaf_hash, sealed_at = %s
                  FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[], %s::bytea[])
                       AS v(id, position, chain_hash, leaf_hash)
                 WHERE e.id = v.id
                """,  # noqa: S608 - the table name is ours, values are parameters
                (
                    sealed_at,
                    [row[0] for row in rows],
                    [row[1] for row in rows],
                    [row[2] for row in rows],
                    [row[3] for row in rows],
                ),
            )
            updated = cursor.rowcount
    else:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {AuditEvent._meta.db_table} SET position = %s, chain_hash = %s, leaf_hash = %s, "  # noqa: S608
                "sealed_at = %s WHERE id = %s AND position IS NULL",
                [(position, chain, leaf, sealed_at, pk) for pk, position, chain, leaf in rows],
            )
            updated = cursor.rowcount  # sqlite3 sums executemany's modifications
    if updated != len(rows):
        # Only possible if something other than the locked sealer wrote seals: stop, do not fork.
        raise RuntimeError(f"sealed {updated} of {len(rows)} events; another writer is sealing")


def _extend_tree(old_size: int, new_leaves: list[bytes]) -> None:
    """Store the node of every aligned block of BLOCK_SIZE items this batch completed, level by level."""
    level, start, items = 0, old_size, new_leaves
    while items:
        first_block = start // selectors.BLOCK_SIZE
        completed = (start + len(items)) // selectors.BLOCK_SIZE
        if completed <= first_block:
            return
        block_start = first_block * selectors.BLOCK_SIZE
        sequence = tree_items(level, block_start, start) + items
        nodes = [
            merkle_root(sequence[offset : offset + selectors.BLOCK_SIZE])
            for offset in range(0, (completed - first_block) * selectors.BLOCK_SIZE, selectors.BLOCK_SIZE)
        ]
        upper = level + selectors.NODE_STRIDE
        AuditTreeNode.objects.bulk_create(
            [AuditTreeNode(level=upper, index=first_block + i, hash=node) for i, node in enumerate(nodes)]
        )
        level, start, items = upper, first_block, nodes


def _seal_batch(state: AuditSealState, limit: int, now: datetime.datetime) -> int:
    rows = unsealed_canonical_rows(limit)
    if not rows:
        return 0
    position = state.tree_size
    chain = bytes(state.last_chain_hash)
    seals, leaves = [], []
    for pk, canonical in rows:
        leaf, chain = leaf_and_chain(chain, canonical)
        seals.append((pk, position, chain, leaf))
        leaves.append(leaf)
        position += 1
    _write_seals(seals, now)
    _extend_tree(state.tree_size, leaves)
    state.tree_size = position
    state.last_chain_hash = chain
    state.save(update_fields=["tree_size", "last_chain_hash"])
    return len(rows)


def _checkpoint_due(state: AuditSealState, last: AuditCheckpoint | None, now: datetime.datetime) -> bool:
    covered = last.tree_size if last else 0
    if state.tree_size <= covered:
        return False
    if state.tree_size - covered >= settings.AUDIT_CHECKPOINT_EVENTS:
        return True
    # No sealed event waits longer than AUDIT_CHECKPOINT_SECONDS for a checkpoint.
    oldest_uncovered = AuditEvent.objects.values_list("sealed_at", flat=True).get(position=covered)
    return (now - oldest_uncovered).total_seconds() >= settings.AUDIT_CHECKPOINT_SECONDS


def _close_checkpoint(
    state: AuditSealState, last: AuditCheckpoint | None, now: datetime.datetime
) -> AuditCheckpoint:
    checkpoint = AuditCheckpoint(
        sequence=(last.sequence + 1) if last else 1,
        tree_size=state.tree_size,
        root_hash=tree_root(state.tree_size),
        chain_hash=bytes(state.last_chain_hash),
        prev_checkpoint_hash=hashlib.sha256(checkpoint_body_bytes(last)).digest() if last else b"",
        issued_at=now,
        key_id=keys.signing_key_id(),
    )
    checkpoint.signature = keys.signing_key().sign(checkpoint_body_bytes(checkpoint))
    checkpoint.save(force_insert=True)
    return checkpoint


def audit_seal(*, now: datetime.datetime | None = None) -> SealResult:
    """Seal every committed, unsealed event and close the checkpoints that are due.

    Works in transactions of up to ``AUDIT_SEAL_BATCH`` events under the sealer lock, sealed in
    steps that stop at every multiple of ``AUDIT_CHECKPOINT_EVENTS`` so checkpoints land on them.
    Positions follow the order the sealer sees committed events in, not primary keys.
    Idempotent: with nothing new it changes nothing.
    """
    result = SealResult()
    batch = settings.AUDIT_SEAL_BATCH
    while True:
        with transaction.atomic():
            moment = now or _now()
            state = _lock_state()
            last = checkpoint_latest()
            sealed_in_batch = 0
            while True:
                covered = last.tree_size if last else 0
                room = settings.AUDIT_CHECKPOINT_EVENTS - (state.tree_size - covered)
                sealed = _seal_batch(state, max(1, min(batch - sealed_in_batch, room)), moment)
                sealed_in_batch += sealed
                if _checkpoint_due(state, last, moment):
                    last = _close_checkpoint(state, last, moment)
                    result.checkpoints.append(last.sequence)
                if not sealed or sealed_in_batch >= batch:
                    break
            result.sealed += sealed_in_batch
            result.tree_size = state.tree_size
        if sealed_in_batch < batch:
            return result


def audit_receipt_sealing_first(*, event: AuditEvent, reader) -> dict:
    """``event``'s receipt for ``reader``, for the API (network details only where
    ``audit_network_visible_to`` allows). Where no beat runs (Celery eager, the embedded default of
    ``make run``) nothing else closes a due checkpoint on a quiet system, so asking for a receipt
    seals first. There is still one sealer: ``audit_seal`` locks the seal state, so a concurrent
    seal waits and then finds nothing left to do. Raises ``ApplicationError`` 409
    ``receipt_not_ready`` when no checkpoint covers the event yet."""
    disclose_network = audit_network_visible_to(user=reader, event=event)
    try:
        return audit_receipt_build(event=event, disclose_network=disclose_network)
    except AuditNotSealed as exc:
        if not settings.CELERY_TASK_ALWAYS_EAGER:  # beat's seal runs every few seconds
            raise _not_ready(exc) from None
    audit_seal()
    event.refresh_from_db()  # the seal was written through another query
    try:
        return audit_receipt_build(event=event, disclose_network=disclose_network)
    except AuditNotSealed as exc:
        raise _not_ready(exc) from None


def _not_ready(exc: AuditNotSealed) -> ApplicationError:
    return ApplicationError(
        f"The receipt is not ready yet: {exc}. "
        f"Try again in {settings.AUDIT_CHECKPOINT_SECONDS} seconds at most.",
        code="receipt_not_ready",
        status_code=409,
    )
