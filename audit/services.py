"""Writes to the audit trail: recording events, sealing them, closing checkpoints, witnessing."""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass, field

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.utils import timezone

from audit import keys, selectors
from audit.canonical import AuditDataError, leaf_and_chain, validate_data
from audit.merkle import CompactRange, consistency_proof, merkle_root
from audit.models import (
    Action,
    AuditCheckpoint,
    AuditEvent,
    AuditSealState,
    AuditTreeNode,
    AuditWitnessSignature,
    Flag,
)
from audit.selectors import (
    StoredTreeSource,
    checkpoint_body_bytes,
    checkpoint_latest,
    tree_items,
    tree_root,
    unsealed_canonical_rows,
)
from audit.verify_receipt import key_id, verify_consistency
from core.bulk import bulk_insert_rows, bulk_insert_values, bulk_update_rows
from core.context import RequestContext, current_context, normalise_ip
from core.tasks import publish_safely

logger = logging.getLogger(__name__)

_ACTIONS = frozenset(Action.values)
SEAL_QUEUED_KEY = "audit:seal-queued"


def _now() -> datetime.datetime:
    return timezone.now()


def _target_of(target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    target_type, target_id = target
    return str(target_type), str(target_id)


def _audit_event_values(
    *,
    action: str,
    actor=None,
    organization=None,
    target=None,
    data: dict | None = None,
    context: RequestContext | None = None,
    occurred_at: datetime.datetime | None = None,
) -> dict:
    """An event's columns (foreign keys by id), checked: ``audit_event_record``'s arguments."""
    if action not in _ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if organization is not None and organization.pk is None:
        raise ValueError("an audit event's organisation must be saved first")
    data = {} if data is None else data
    validate_data(data)
    context = context or current_context()
    target_type, target_id = _target_of(target)
    return {
        "occurred_at": occurred_at or _now(),
        "action": action,
        "actor_id": getattr(actor, "pk", None) or None,
        "organization_id": None if organization is None else organization.pk,
        "target_type": target_type[:100],
        "target_id": target_id[:64],
        "data": data,
        "channel": context.channel,
        "ip": normalise_ip(context.ip) or "",
        "user_agent": context.user_agent[:512],
        "request_id": context.request_id[:64],
    }


def _audit_event_build(**arguments) -> AuditEvent:
    event = AuditEvent(**_audit_event_values(**arguments))
    # The instance keeps the objects it was given, as one built from them would.
    if arguments.get("organization") is not None:
        event.organization = arguments["organization"]
    if event.actor_id is not None:
        event.actor = arguments["actor"]
    return event


def audit_event_record(
    *,
    action: str,
    actor=None,
    organization=None,
    target=None,
    data: dict | None = None,
    context: RequestContext | None = None,
    occurred_at: datetime.datetime | None = None,
) -> AuditEvent:
    """Insert one audit event in the caller's transaction (it rolls back with it).

    ``target`` is a model instance or a ``(type, id)`` pair. Who/where comes from the request
    context the middleware bound unless ``context`` is given. After the commit, sealing is
    queued. Raises ``ValueError`` for an unknown action and ``AuditDataError`` for data that
    cannot be stored faithfully (floats, secrets, NUL characters).
    """
    event = _audit_event_build(
        action=action,
        actor=actor,
        organization=organization,
        target=target,
        data=data,
        context=context,
        occurred_at=occurred_at,
    )
    event.save(force_insert=True)
    transaction.on_commit(_queue_seal)
    return event


def audit_events_record(*, events: list[dict]) -> list[int]:
    """``audit_event_record`` for many events (each a dict of its keyword arguments), inserted in
    one statement, in order, without building an instance of each; sealing is queued once after
    the commit. Returns the events' ids. Checks every event before writing any."""
    rows = [_audit_event_values(**event) for event in events]
    if not rows:
        return []
    ids = bulk_insert_values(AuditEvent, rows)
    transaction.on_commit(_queue_seal)
    return ids


def _queue_seal() -> None:
    """Ask for a seal unless one is already queued; a lost request only delays sealing to the sweep."""
    from audit.tasks import audit_seal_task

    try:
        if not cache.add(SEAL_QUEUED_KEY, 1, timeout=30):
            return
    except Exception:  # A cache outage must not stop the request; queue anyway.
        logger.warning("cache unavailable; queueing an audit seal without de-duplication")
    publish_safely(audit_seal_task)


# --- sealing -----------------------------------------------------------------------------------


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


# --- witnesses ---------------------------------------------------------------------------------


class WitnessRefusal(Exception):
    """The witness will not co-sign: the checkpoint's signature or consistency does not hold."""


def audit_checkpoints_witness(
    *, private_key: Ed25519PrivateKey, now: datetime.datetime | None = None
) -> list[int]:
    """Co-sign, with an independent key, every checkpoint this witness has not signed yet.

    Before signing, the witness checks the log's own signature and that each new tree is a
    consistent extension of the last one it signed (RFC 6962 consistency proof), so a log that
    rewrote history cannot obtain its signature. Raises ``WitnessRefusal`` naming the checkpoint.
    """
    witness_id = key_id(private_key.public_key())
    public_pem = keys.public_key_pem(private_key.public_key())
    trusted = keys.trusted_public_keys()
    signed = []
    last_signed = (
        AuditCheckpoint.objects.filter(witness_signatures__key_id=witness_id).order_by("-sequence").first()
    )
    pending = AuditCheckpoint.objects.exclude(witness_signatures__key_id=witness_id).order_by("sequence")
    if last_signed:
        pending = pending.filter(sequence__gt=last_signed.sequence)
    for checkpoint in pending:
        body = checkpoint_body_bytes(checkpoint)
        log_key = trusted.get(checkpoint.key_id)
        try:
            if log_key is None:
                raise InvalidSignature
            log_key.verify(bytes(checkpoint.signature), body)
        except InvalidSignature:
            raise WitnessRefusal(
                f"checkpoint #{checkpoint.sequence}: the log's signature does not verify"
            ) from None
        if last_signed is not None:
            proof = consistency_proof(
                StoredTreeSource(checkpoint.tree_size), last_signed.tree_size, checkpoint.tree_size
            )
            if not verify_consistency(
                last_signed.tree_size,
                checkpoint.tree_size,
                bytes(last_signed.root_hash),
                bytes(checkpoint.root_hash),
                proof,
            ):
                raise WitnessRefusal(
                    f"checkpoint #{checkpoint.sequence} is not consistent with #{last_signed.sequence}"
                )
        with transaction.atomic():
            AuditWitnessSignature.objects.create(
                checkpoint=checkpoint,
                key_id=witness_id,
                public_key_pem=public_pem,
                signature=private_key.sign(body),
                signed_at=now or _now(),
            )
            audit_event_record(
                action=Action.AUDIT_WITNESSED,
                target=checkpoint,
                data={"witness_key_id": witness_id, "sequence": checkpoint.sequence},
            )
        signed.append(checkpoint.sequence)
        last_signed = checkpoint
    return signed


__all__ = [
    "AuditDataError",
    "SealResult",
    "WitnessRefusal",
    "audit_checkpoints_witness",
    "audit_event_record",
    "audit_seal",
]


@transaction.atomic
def flag_raise(
    *,
    kind: str,
    severity: str,
    explanation: str,
    user=None,
    organization=None,
    evidence: dict | None = None,
) -> tuple[Flag, bool]:
    """Open a flag, or count another sighting on the open flag of the same kind and subject seen
    within ``FLAG_WINDOW_HOURS`` (its severity only rises). Returns ``(flag, created)``; a new flag
    records ``flag.raised``. Raises ``AuditDataError`` for evidence that could hold a secret."""
    evidence = evidence or {}
    validate_data(evidence, "evidence")
    now = _now()
    window = now - datetime.timedelta(hours=settings.FLAG_WINDOW_HOURS)
    existing = (
        Flag.objects.select_for_update()
        .filter(
            kind=kind,
            user=user if getattr(user, "pk", None) else None,
            organization=organization,
            status=Flag.Status.OPEN,
            last_seen_at__gte=window,
        )
        .order_by("-last_seen_at")
        .first()
    )
    if existing is not None:
        existing.count += 1
        existing.last_seen_at = now
        existing.evidence = evidence
        existing.explanation = explanation
        if Flag.SEVERITY_RANK[severity] > Flag.SEVERITY_RANK[existing.severity]:
            existing.severity = severity
        existing.save(update_fields=["count", "last_seen_at", "evidence", "explanation", "severity"])
        return existing, False
    flag = Flag.objects.create(
        kind=kind,
        severity=severity,
        user=user if getattr(user, "pk", None) else None,
        organization=organization,
        evidence=evidence,
        explanation=explanation,
        first_seen_at=now,
        last_seen_at=now,
    )
    audit_event_record(
        action=Action.FLAG_RAISED,
        actor=None,
        organization=organization,
        target=flag,
        data={
            "kind": kind,
            "severity": severity,
            "user": str(user.pk) if getattr(user, "pk", None) else None,
        },
    )
    return flag, True


@dataclass(frozen=True)
class Sighting:
    """One thing seen, for ``flags_raise``: the arguments of ``flag_raise``."""

    kind: str
    severity: str
    explanation: str
    user: object = None
    organization: object = None
    evidence: dict = field(default_factory=dict)


def flags_raise(*, sightings: list[Sighting]) -> list[tuple[Flag, bool]]:
    """``flag_raise`` for many sightings, in order, with the same flags, counts and ``flag.raised``
    events as calling it for each in turn, in a few statements: the open flags of every subject
    are read and locked in one query (in id order, so two batches lock in the same order), new
    flags are inserted in one, counted ones updated in one, and the new flags' events inserted in
    one. Returns ``(flag, created)`` per sighting. Raises ``AuditDataError`` for evidence that
    could hold a secret, before writing anything."""
    for sighting in sightings:
        validate_data(sighting.evidence, "evidence")
    if not sightings:
        return []
    now = _now()
    window = now - datetime.timedelta(hours=settings.FLAG_WINDOW_HOURS)

    def subject(sighting: Sighting) -> tuple[str, int | None, int | None]:
        return (
            sighting.kind,
            getattr(sighting.user, "pk", None),
            getattr(sighting.organization, "pk", None),
        )

    keys = {subject(sighting) for sighting in sightings}
    # The open flags of these users, and of the kinds seen without a user (served by the indexes
    # on user_id and flag_subject_open), are locked and matched exactly here: one OR per subject
    # costs the ORM more than the few extra rows.
    users = {user_id for _kind, user_id, _org in keys if user_id is not None}
    userless_kinds = {kind for kind, user_id, _org in keys if user_id is None}
    open_flags: dict[tuple, Flag] = {}
    for flag in (
        Flag.objects.select_for_update()
        .filter(
            models.Q(user_id__any=users) | models.Q(user__isnull=True, kind__any=userless_kinds),
            status=Flag.Status.OPEN,
            last_seen_at__gte=window,
        )
        .order_by("pk")
    ):
        key = (flag.kind, flag.user_id, flag.organization_id)
        if key in keys and (key not in open_flags or flag.last_seen_at > open_flags[key].last_seen_at):
            open_flags[key] = flag
    results: list[tuple[Flag, bool]] = []
    created: list[tuple[Flag, Sighting]] = []
    counted: dict[int, Flag] = {}
    for sighting in sightings:
        key = subject(sighting)
        flag = open_flags.get(key)
        if flag is None:
            flag = Flag(
                kind=sighting.kind,
                severity=sighting.severity,
                user=sighting.user if key[1] else None,
                organization=sighting.organization,
                evidence=sighting.evidence,
                explanation=sighting.explanation,
                first_seen_at=now,
                last_seen_at=now,
            )
            open_flags[key] = flag
            created.append((flag, sighting))
            results.append((flag, True))
            continue
        flag.count += 1
        flag.last_seen_at = now
        flag.evidence = sighting.evidence
        flag.explanation = sighting.explanation
        if Flag.SEVERITY_RANK[sighting.severity] > Flag.SEVERITY_RANK[flag.severity]:
            flag.severity = sighting.severity
        if flag.pk is not None:  # one created in this batch is inserted as it ends up
            counted[flag.pk] = flag
        results.append((flag, False))
    bulk_insert_rows(Flag, [flag for flag, _sighting in created])
    if counted:
        bulk_update_rows(
            Flag, list(counted.values()), ["count", "last_seen_at", "evidence", "explanation", "severity"]
        )
    audit_events_record(
        events=[
            {
                "action": Action.FLAG_RAISED,
                "organization": flag.organization,
                "target": flag,
                "data": {
                    "kind": sighting.kind,
                    "severity": sighting.severity,
                    "user": str(flag.user_id) if flag.user_id else None,
                },
            }
            for flag, sighting in created
        ]
    )
    return results


# --- bulk loads ----------------------------------------------------------------------------------


class BulkSealer:
    """Seals a stream of events into an **empty** trail in memory, exactly as ``audit_seal`` would
    have sealed them one batch after another: positions in the order given, the hash chain, RFC
    6962 leaves, the stored subtree nodes every ``NODE_STRIDE`` levels and a checkpoint signed with
    the server's key every ``AUDIT_CHECKPOINT_EVENTS`` events (and one at the end).

    For ``seed_scale``, which writes millions of events with ``COPY``: sealing them afterwards
    would rewrite every row once more. ``seal()`` returns each event's seal for its row; once the
    rows are written, ``finish()`` writes the checkpoints, the tree nodes and the sealer's cursor,
    so ``verify_audit`` checks the trail and the site's own events are sealed on top of it.
    """

    def __init__(self):
        self.every = settings.AUDIT_CHECKPOINT_EVENTS
        self._key, self._key_id = keys.signing_key(), keys.signing_key_id()
        self.nodes: list[tuple[int, int, bytes]] = []
        self.tree = CompactRange(
            on_subtree=lambda level, index, node: self.nodes.append((level, index, node)),
            every=selectors.NODE_STRIDE,
        )
        self.checkpoints: list[AuditCheckpoint] = []
        self.chain = bytes(32)
        self._sealed_at: datetime.datetime | None = None

    def seal(self, canonical: bytes, sealed_at: datetime.datetime) -> tuple[int, bytes, bytes]:
        """``(position, chain hash, leaf hash)`` of the next event, from its canonical bytes."""
        position = self.tree.size
        leaf, self.chain = leaf_and_chain(self.chain, canonical)
        self.tree.append(leaf)
        self._sealed_at = sealed_at
        if self.tree.size % self.every == 0:
            self._checkpoint(sealed_at)
        return position, self.chain, leaf

    def _checkpoint(self, issued_at: datetime.datetime) -> None:
        last = self.checkpoints[-1] if self.checkpoints else None
        checkpoint = AuditCheckpoint(
            sequence=(last.sequence + 1) if last else 1,
            tree_size=self.tree.size,
            root_hash=self.tree.root(),
            chain_hash=self.chain,
            prev_checkpoint_hash=hashlib.sha256(checkpoint_body_bytes(last)).digest() if last else b"",
            issued_at=issued_at,
            key_id=self._key_id,
        )
        checkpoint.signature = self._key.sign(checkpoint_body_bytes(checkpoint))
        self.checkpoints.append(checkpoint)

    @transaction.atomic
    def finish(self) -> SealResult:
        """Write the checkpoints, the tree nodes and the sealer's cursor (after the events)."""
        if self._sealed_at is not None and self.tree.size % self.every:
            self._checkpoint(self._sealed_at)
        AuditCheckpoint.objects.bulk_create(self.checkpoints, batch_size=2000)
        AuditTreeNode.objects.bulk_create(
            [AuditTreeNode(level=level, index=index, hash=node) for level, index, node in self.nodes],
            batch_size=5000,
        )
        AuditSealState.objects.update_or_create(
            pk=1, defaults={"tree_size": self.tree.size, "last_chain_hash": self.chain}
        )
        return SealResult(
            sealed=self.tree.size,
            checkpoints=[c.sequence for c in self.checkpoints],
            tree_size=self.tree.size,
        )
