"""Full verification of the audit trail: every hash, node, checkpoint root, signature and link.

Read-only and streaming: events are read once in chain order; memory stays O(log n) for the tree
plus the checkpoint list.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import keys, selectors
from audit.canonical import ZERO_HASH, canonical_event, leaf_and_chain
from audit.merkle import CompactRange, merkle_root
from audit.models import EVENT_FACT_FIELDS, AuditCheckpoint, AuditEvent, AuditSealState, AuditTreeNode
from audit.selectors import checkpoint_body_bytes
from audit.verify_receipt import key_id

STREAM_CHUNK = 10_000


@dataclass
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class VerificationReport:
    events: int = 0
    checkpoints: int = 0
    unsealed: int = 0
    problems: list[Problem] = field(default_factory=list)
    witnesses: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # sequence -> (key id, status)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _hex(value: bytes | None) -> str:
    return bytes(value).hex() if value is not None else "nothing"


class _NodeChecker:
    """Recomputes every stored subtree node from the recomputed leaves and compares."""

    def __init__(self, report: VerificationReport):
        self.report = report
        self.stored = {
            (level, index): bytes(value)
            for level, index, value in AuditTreeNode.objects.values_list("level", "index", "hash")
        }
        self.pending: dict[int, list[bytes]] = {}

    def add(self, level: int, item: bytes, item_index: int) -> None:
        items = self.pending.setdefault(level, [])
        items.append(item)
        if len(items) < selectors.BLOCK_SIZE:
            return
        upper = level + selectors.NODE_STRIDE
        index = item_index // selectors.BLOCK_SIZE
        node = merkle_root(items)
        self.pending[level] = []
        stored = self.stored.pop((upper, index), None)
        if stored != node:
            self.report.problems.append(
                Problem(
                    f"tree node level {upper} index {index}",
                    "stored hash does not match the events below it; "
                    f"expected {node.hex()}, found {_hex(stored)}",
                )
            )
        self.add(upper, node, index)

    def finish(self) -> None:
        for level, index in sorted(self.stored):
            self.report.problems.append(
                Problem(
                    f"tree node level {level} index {index}",
                    "stored, but no complete block of events below it",
                )
            )


def audit_verify(*, witness_keys: tuple[Ed25519PublicKey, ...] = ()) -> VerificationReport:
    """Recompute everything; the report lists every problem in chain order, the first one first."""
    started = time.perf_counter()
    report = VerificationReport()
    trusted = keys.trusted_public_keys()
    witness_by_id = {key_id(key): key for key in witness_keys}
    checkpoints = list(AuditCheckpoint.objects.order_by("sequence").prefetch_related("witness_signatures"))
    due = iter(checkpoints)
    next_checkpoint = next(due, None)
    previous_checkpoint: AuditCheckpoint | None = None
    tree = CompactRange()
    nodes = _NodeChecker(report)
    stored_prev = ZERO_HASH  # link check against stored hashes, so one edit gives one problem
    computed_chain = ZERO_HASH  # the chain as it should be, for checkpoints

    def check_checkpoint(checkpoint: AuditCheckpoint) -> None:
        nonlocal previous_checkpoint
        where = f"checkpoint #{checkpoint.sequence} (tree size {checkpoint.tree_size})"
        expected_sequence = previous_checkpoint.sequence + 1 if previous_checkpoint else 1
        if checkpoint.sequence != expected_sequence:
            report.problems.append(Problem(where, f"sequence gap; expected #{expected_sequence}"))
        root = tree.root()
        if bytes(checkpoint.root_hash) != root:
            report.problems.append(
                Problem(
                    where,
                    f"root hash does not match the events; expected {root.hex()}, "
                    f"found {_hex(checkpoint.root_hash)}",
                )
            )
        if bytes(checkpoint.chain_hash) != computed_chain:
            report.problems.append(
                Problem(
                    where,
                    f"chain hash does not match event {checkpoint.tree_size - 1}; "
                    f"expected {computed_chain.hex()}, found {_hex(checkpoint.chain_hash)}",
                )
            )
        expected_prev = (
            hashlib.sha256(checkpoint_body_bytes(previous_checkpoint)).digest()
            if previous_checkpoint
            else b""
        )
        if bytes(checkpoint.prev_checkpoint_hash or b"") != expected_prev:
            report.problems.append(Problem(where, "is not chained to the previous checkpoint"))
        body = checkpoint_body_bytes(checkpoint)
        public_key = trusted.get(checkpoint.key_id)
        if public_key is None:
            report.problems.append(Problem(where, f"signed with unknown key {checkpoint.key_id}"))
        else:
            try:
                public_key.verify(bytes(checkpoint.signature), body)
            except InvalidSignature:
                report.problems.append(Problem(where, "signature does not verify"))
        statuses = []
        for witness in checkpoint.witness_signatures.all():
            key = witness_by_id.get(witness.key_id)
            if key is None:
                statuses.append((witness.key_id, "not checked (key not given)"))
                continue
            try:
                key.verify(bytes(witness.signature), body)
                statuses.append((witness.key_id, "valid"))
            except InvalidSignature:
                statuses.append((witness.key_id, "INVALID"))
                report.problems.append(Problem(where, f"witness {witness.key_id} signature does not verify"))
        report.witnesses[checkpoint.sequence] = statuses
        previous_checkpoint = checkpoint

    rows = (
        AuditEvent.objects.filter(position__isnull=False)
        .order_by("position")
        .values_list("position", "chain_hash", "leaf_hash", *EVENT_FACT_FIELDS)
        .iterator(chunk_size=STREAM_CHUNK)
    )
    for expected_position, (position, chain_hash, stored_leaf, *facts) in enumerate(rows):
        where = f"event position {expected_position}"
        if position != expected_position:
            report.problems.append(Problem(where, f"missing; the next stored event has position {position}"))
            # Nothing after a gap can match a checkpoint; report it once and stop the stream here.
            break
        facts_by_name = dict(zip(EVENT_FACT_FIELDS, facts, strict=True))
        canonical = canonical_event(**facts_by_name)
        leaf, computed_chain = leaf_and_chain(computed_chain, canonical)
        chain_hash = bytes(chain_hash)
        _, link = leaf_and_chain(stored_prev, canonical)
        if link != chain_hash:
            report.problems.append(
                Problem(
                    f"{where} (event {facts_by_name['event_id']})",
                    f"chain hash does not match; expected {link.hex()}, found {chain_hash.hex()}",
                )
            )
        if bytes(stored_leaf) != leaf:
            report.problems.append(
                Problem(
                    f"{where} (event {facts_by_name['event_id']})",
                    f"leaf hash does not match; expected {leaf.hex()}, found {_hex(stored_leaf)}",
                )
            )
        stored_prev = chain_hash
        tree.append(leaf)
        nodes.add(0, leaf, expected_position)
        report.events += 1
        while next_checkpoint is not None and next_checkpoint.tree_size == tree.size:
            check_checkpoint(next_checkpoint)
            report.checkpoints += 1
            next_checkpoint = next(due, None)

    for checkpoint in [c for c in checkpoints if c.tree_size > report.events]:
        report.problems.append(
            Problem(
                f"checkpoint #{checkpoint.sequence} (tree size {checkpoint.tree_size})",
                f"covers more events than the {report.events} sealed ones",
            )
        )
    nodes.finish()
    state = AuditSealState.objects.filter(pk=1).first()
    if state is not None and state.tree_size != report.events and not report.problems:
        report.problems.append(
            Problem("seal state", f"says {state.tree_size} events are sealed, found {report.events}")
        )
    report.unsealed = AuditEvent.objects.filter(position__isnull=True).count()
    report.seconds = time.perf_counter() - started
    return report
