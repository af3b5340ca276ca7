"""Reads of the audit trail: stored Merkle hashes, receipts and consistency proofs."""

from __future__ import annotations

import base64
import datetime
import threading
import uuid
from collections import OrderedDict

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from audit import keys
from audit.canonical import ZERO_HASH, canonical_event, canonical_from_text, format_timestamp, network_opening
from audit.merkle import ListSource, consistency_proof, inclusion_proof, range_hash
from audit.models import EVENT_FACT_FIELDS, AuditCheckpoint, AuditEvent, AuditTreeNode, Flag
from audit.verify_receipt import RECEIPT_VERSION, canonical_json, key_id

# Subtree hashes are stored for every level that is a multiple of NODE_STRIDE; a proof then reads
# at most one block of BLOCK_SIZE hashes per band of NODE_STRIDE levels.
NODE_STRIDE = 8
BLOCK_SIZE = 1 << NODE_STRIDE


class AuditNotSealed(LookupError):
    """The event has no chain position or no checkpoint covers it yet."""


def event_canonical_bytes(event: AuditEvent) -> bytes:
    return canonical_event(**{name: getattr(event, name) for name in EVENT_FACT_FIELDS})


# The columns are read raw (no ORM conversion) and the canonical bytes assembled from their text:
# the ORM's per-value conversions cost about 3x in bench/audit.py, and a verifier must see the
# stored data text exactly as it is, not as the JSON field would re-read it.
# On PostgreSQL the typed columns are rendered by the server in the canonical form's own text.
_PG_TEXT_OF = {
    "event_id": "event_id::text",
    "occurred_at": "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    "actor_id": "actor_id::text",
    "organization_id": "organization_id::text",
}
_PG_FACT_COLUMNS = ", ".join(_PG_TEXT_OF.get(field, field) for field in EVENT_FACT_FIELDS)
_PLAIN_FACT_COLUMNS = ", ".join(EVENT_FACT_FIELDS)
_TABLE = AuditEvent._meta.db_table


def _canonical_of_raw(facts) -> tuple[str, bytes]:
    """``(event id, canonical bytes)`` from raw column values."""
    if connection.vendor == "postgresql":
        return facts[0], canonical_from_text(*facts)
    # SQLite keeps uuids as 32 hex digits and timestamps as naive UTC (text, or already parsed by
    # the driver's declared-type converters).
    event_id, occurred_at, action, actor_id, organization_id, *rest = facts
    if not isinstance(occurred_at, datetime.datetime):
        occurred_at = datetime.datetime.fromisoformat(occurred_at)
    moment = occurred_at.replace(tzinfo=datetime.UTC)
    event_id = str(uuid.UUID(hex=event_id))
    return event_id, canonical_from_text(
        event_id,
        format_timestamp(moment),
        action,
        None if actor_id is None else str(actor_id),
        None if organization_id is None else str(organization_id),
        *rest,
    )


def _fact_columns() -> str:
    return _PG_FACT_COLUMNS if connection.vendor == "postgresql" else _PLAIN_FACT_COLUMNS


def unsealed_canonical_rows(limit: int) -> list[tuple[int, bytes]]:
    """``(id, canonical bytes)`` of up to ``limit`` committed, unsealed events, in id order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {_fact_columns()} FROM {_TABLE} WHERE position IS NULL ORDER BY id LIMIT %s",  # noqa: S608
            [limit],
        )
        return [(row[0], _canonical_of_raw(row[1:])[1]) for row in cursor.fetchall()]


def sealed_canonical_rows(start: int, limit: int) -> list[tuple[int, bytes, bytes, str, bytes]]:
    """``(position, chain hash, leaf hash, event id, canonical bytes)`` of sealed events from
    position ``start`` on, in chain order (keyset pagination over the unique position index).

    The stored data text goes in verbatim, so even a whitespace edit shows; that is sound because
    equal canonical bytes imply equal columns (see ``canonical_from_text``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT position, chain_hash, leaf_hash, {_fact_columns()} FROM {_TABLE} "  # noqa: S608
            "WHERE position >= %s ORDER BY position LIMIT %s",
            [start, limit],
        )
        rows = cursor.fetchall()
    return [(row[0], bytes(row[1]), bytes(row[2]), *_canonical_of_raw(row[3:])) for row in rows]


def tree_items(level: int, start: int, end: int) -> list[bytes]:
    """Stored hashes at ``level`` with indexes in [start, end): leaf hashes for level 0."""
    if end <= start:
        return []
    if level == 0:
        rows = (
            AuditEvent.objects.filter(position__gte=start, position__lt=end)
            .order_by("position")
            .values_list("leaf_hash", flat=True)
        )
    else:
        rows = (
            AuditTreeNode.objects.filter(level=level, index__gte=start, index__lt=end)
            .order_by("index")
            .values_list("hash", flat=True)
        )
    items = [bytes(item) for item in rows]
    if len(items) != end - start:
        raise AuditNotSealed(f"level {level} items {start}..{end} are not all stored")
    return items


class _CompleteBlockCache:
    """Complete blocks never change (the tables are append-only), so they are kept per process."""

    def __init__(self, capacity: int = 4096):
        self._blocks: OrderedDict[tuple[int, int], ListSource] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> ListSource | None:
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
            return block

    def put(self, key: tuple[int, int], block: ListSource) -> None:
        with self._lock:
            self._blocks[key] = block
            if len(self._blocks) > self._capacity:
                self._blocks.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._blocks.clear()


complete_blocks = _CompleteBlockCache()


class StoredTreeSource:
    """A ``SubtreeSource`` over the stored leaves and nodes of a tree of ``tree_size`` leaves."""

    def __init__(self, tree_size: int):
        self.tree_size = tree_size
        self._partial: dict[tuple[int, int], ListSource] = {}

    def _block(self, level: int, block: int) -> ListSource:
        key = (level, block, BLOCK_SIZE)
        cached = complete_blocks.get(key) or self._partial.get(key)
        if cached is not None:
            return cached
        available = self.tree_size >> level
        start = block * BLOCK_SIZE
        end = min(start + BLOCK_SIZE, available)
        source = ListSource(tree_items(level, start, end))
        if end - start == BLOCK_SIZE:
            complete_blocks.put(key, source)
        else:
            self._partial[key] = source
        return source

    def subtree_hash(self, start: int, size: int) -> bytes:
        height = size.bit_length() - 1
        level = (height // NODE_STRIDE) * NODE_STRIDE
        first = start >> level
        block = first // BLOCK_SIZE
        return self._block(level, block).subtree_hash(first - block * BLOCK_SIZE, 1 << (height - level))


def tree_root(tree_size: int) -> bytes:
    return range_hash(StoredTreeSource(tree_size), 0, tree_size)


def checkpoint_body(checkpoint: AuditCheckpoint) -> dict:
    """The signed statement, exactly as ``audit.verify_receipt`` expects it."""
    return {
        "log": settings.AUDIT_LOG_ID,
        "sequence": checkpoint.sequence,
        "tree_size": checkpoint.tree_size,
        "root_hash": bytes(checkpoint.root_hash).hex(),
        "chain_hash": bytes(checkpoint.chain_hash).hex(),
        "prev_checkpoint_hash": bytes(checkpoint.prev_checkpoint_hash or b"").hex(),
        "issued_at": format_timestamp(checkpoint.issued_at),
        "key_id": checkpoint.key_id,
    }


def checkpoint_body_bytes(checkpoint: AuditCheckpoint) -> bytes:
    return canonical_json(checkpoint_body(checkpoint))


def checkpoint_latest() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-sequence").first()


def checkpoint_covering(position: int) -> AuditCheckpoint | None:
    """The newest checkpoint whose tree contains ``position``."""
    return AuditCheckpoint.objects.filter(tree_size__gt=position).order_by("-sequence").first()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict:
    return {
        "body": checkpoint_body(checkpoint),
        "signature": _b64(bytes(checkpoint.signature)),
        "witnesses": [
            {
                "key_id": witness.key_id,
                "signature": _b64(bytes(witness.signature)),
                "signed_at": witness.signed_at.isoformat(),
            }
            for witness in checkpoint.witness_signatures.order_by("key_id")
        ],
    }


def audit_network_visible_to(*, user, event: AuditEvent) -> bool:
    """Whether ``user`` may see where ``event`` came from (IP address, user agent, request id):
    officers always, anyone else only when the event's actor works for their own organisation
    (a person never moves between organisations, so that is who they worked for then).
    A trader's receipt of its broker's filing, or of an officer's decision, keeps the broker's or
    the officer's network to itself; the event commits to it all the same."""
    if user.is_officer:
        return True
    if event.actor_id is None or user.organization_id is None:
        return False
    return event.actor.organization_id == user.organization_id


def audit_receipt_build(
    *, event: AuditEvent, disclose_network: bool, checkpoint: AuditCheckpoint | None = None
) -> dict:
    """Everything needed to check ``event`` offline: its canonical bytes, chain link, inclusion
    proof and the signed checkpoint (the newest covering it unless one is given). With
    ``disclose_network`` (see ``audit_network_visible_to``) a format-2 event's receipt also opens
    its network commitment.

    Raises ``AuditNotSealed`` when the event is not yet sealed or not yet covered by a checkpoint.
    """
    if event.position is None:
        raise AuditNotSealed("the event is not sealed yet")
    checkpoint = checkpoint or checkpoint_covering(event.position)
    if checkpoint is None or checkpoint.tree_size <= event.position:
        raise AuditNotSealed("no checkpoint covers the event yet")
    if event.position == 0:
        prev_chain_hash = ZERO_HASH
    else:
        prev_chain_hash = bytes(
            AuditEvent.objects.values_list("chain_hash", flat=True).get(position=event.position - 1)
        )
    path = inclusion_proof(StoredTreeSource(checkpoint.tree_size), event.position, checkpoint.tree_size)
    document = checkpoint_document(checkpoint)
    described = {
        "event_id": str(event.event_id),
        "canonical": _b64(event_canonical_bytes(event)),
        "position": event.position,
        "chain_hash": bytes(event.chain_hash).hex(),
        "prev_chain_hash": prev_chain_hash.hex(),
    }
    opening = network_opening(
        network_salt=event.network_salt, ip=event.ip, user_agent=event.user_agent, request_id=event.request_id
    )
    if disclose_network and opening is not None:
        described["opening"] = opening
    return {
        "version": RECEIPT_VERSION,
        "log": settings.AUDIT_LOG_ID,
        "event": described,
        "inclusion": {
            "leaf_index": event.position,
            "tree_size": checkpoint.tree_size,
            "path": [node.hex() for node in path],
        },
        "checkpoint": {"body": document["body"], "signature": document["signature"]},
        "witnesses": document["witnesses"],
    }


def audit_consistency_build(*, first: AuditCheckpoint, second: AuditCheckpoint) -> dict:
    """RFC 6962 consistency proof that ``second``'s tree extends ``first``'s."""
    if first.tree_size > second.tree_size:
        first, second = second, first
    proof = consistency_proof(StoredTreeSource(second.tree_size), first.tree_size, second.tree_size)
    return {
        "first": checkpoint_document(first),
        "second": checkpoint_document(second),
        "proof": [node.hex() for node in proof],
    }


def audit_event_for_reader(*, user, event_id) -> AuditEvent | None:
    """The event if ``user`` may read it: officers any event, members only those recorded for
    their own organisation. ``None`` otherwise, so callers answer "not found" either way."""
    events = AuditEvent.objects.filter(event_id=event_id)
    if not user.is_officer:
        if user.organization_id is None:
            return None
        events = events.filter(organization_id=user.organization_id)
    return events.first()


# --- the officer dashboard ------------------------------------------------------------------------


def dashboard_days(days: int, *, today: datetime.date | None = None) -> list[datetime.date]:
    """The last ``days`` local dates, oldest first, ending today."""
    today = today or timezone.localdate()
    return [today - datetime.timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def since_start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def flags_per_day(*, since: datetime.date) -> list[tuple[datetime.date, str, str, int]]:
    """Flags first seen per local day, by kind and severity: ``(day, kind, severity, count)``."""
    rows = (
        Flag.objects.filter(first_seen_at__gte=since_start_of(since))
        .annotate(day=TruncDate("first_seen_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "kind", "severity")
        .annotate(count=Count("id"))
        .order_by("day", "kind", "severity")
    )
    return list(rows)


def flags_open_by_organization(*, limit: int = 10) -> list[dict]:
    """The enterprises (traders and brokers) with the most open flags, with how many are high."""
    rows = (
        Flag.objects.exclude(status=Flag.Status.RESOLVED)
        .filter(organization__isnull=False)
        .values("organization_id", "organization__name", "organization__tax_code", "organization__kind")
        .annotate(open=Count("id"), high=Count("id", filter=Q(severity=Flag.Severity.HIGH)))
        .order_by("-open", "-high", "organization__name")[:limit]
    )
    return list(rows)


def audit_trail_state() -> dict:
    """What the officer dashboard says about the trail: the newest checkpoint and its witnesses,
    how many checkpoints any witness co-signed, events not yet sealed, and the newest recorded
    full verification (``verify_audit`` records its result as ``audit.verified``)."""
    latest = AuditCheckpoint.objects.order_by("-sequence").first()
    verification = AuditEvent.objects.filter(action="audit.verified").order_by("-occurred_at", "-id").first()
    return {
        "checkpoint": latest,
        "checkpoint_witnesses": (
            list(latest.witness_signatures.values_list("key_id", flat=True)) if latest else []
        ),
        "checkpoints": AuditCheckpoint.objects.count(),
        "witnessed_checkpoints": AuditCheckpoint.objects.filter(witness_signatures__isnull=False)
        .distinct()
        .count(),
        "unsealed": AuditEvent.objects.filter(position__isnull=True).count(),
        "verification": verification,
    }


def checkpoint_proof_status(checkpoint: AuditCheckpoint) -> dict:
    """For the officer console: does the log's signature on ``checkpoint`` verify with a key this
    server trusts, and does each witness co-signature verify with the witness key stored beside it
    (whose id must match)? An independent check with the witnesses' own keys is ``verify_audit
    --witness-key``; this one catches a tampered row or a forged co-signature."""
    body = checkpoint_body_bytes(checkpoint)
    log_key = keys.trusted_public_keys().get(checkpoint.key_id)
    try:
        if log_key is None:
            raise InvalidSignature
        log_key.verify(bytes(checkpoint.signature), body)
        log_ok = True
    except InvalidSignature:
        log_ok = False
    witnesses = []
    for witness in checkpoint.witness_signatures.all():
        try:
            public_key = serialization.load_pem_public_key(witness.public_key_pem.encode())
            if key_id(public_key) != witness.key_id:
                raise InvalidSignature
            public_key.verify(bytes(witness.signature), body)
            witnesses.append((witness.key_id, True))
        except (InvalidSignature, ValueError, TypeError, AttributeError):
            witnesses.append((witness.key_id, False))
    return {"log_signature": log_ok, "witnesses": witnesses}
