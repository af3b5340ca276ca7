"""Full verification of the audit trail: every hash, node, checkpoint root, signature and link.

Read-only and streaming: events are read once in chain order; memory stays O(log n) for the tree
plus the checkpoint list.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection
from django.db.models import Max

from audit import keys, selectors, verification_worker
from audit.merkle import CompactRange
from audit.models import AuditCheckpoint, AuditEvent, AuditSealState, AuditTreeNode
from audit.published import published_problems
from audit.selectors import checkpoint_body_bytes
from audit.verification_chunks import Chunk, Problem, hex_of, verify_chunk
from audit.verify_receipt import key_id

PARALLEL_CHUNK = 50_000


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


class _NodeChecker:
    """Compares every stored subtree node with the one the recomputed leaves give."""

    def __init__(self, report: VerificationReport):
        self.report = report
        self.stored = {
            (level, index): bytes(value)
            for level, index, value in AuditTreeNode.objects.values_list("level", "index", "hash")
        }

    def __call__(self, level: int, index: int, node: bytes) -> None:
        stored = self.stored.pop((level, index), None)
        if stored != node:
            self.report.problems.append(
                Problem(
                    f"tree node level {level} index {index}",
                    "stored hash does not match the events below it; "
                    f"expected {node.hex()}, found {hex_of(stored)}",
                )
            )

    def finish(self) -> None:
        for level, index in sorted(self.stored):
            self.report.problems.append(
                Problem(
                    f"tree node level {level} index {index}",
                    "stored, but no complete block of events below it",
                )
            )


def default_jobs() -> int:
    """One process per CPU (measured with bench/audit.py at 1,000,000 events on 2 CPUs:
    1 job ~85k events/s, 2 jobs ~175k, 3 jobs ~140k, 4 jobs ~150k)."""
    return min(os.cpu_count() or 1, 8)


def _chunks(jobs: int, wanted_chains: frozenset[int]) -> Iterator[Chunk]:
    """The chunks in chain order, computed inline or by ``jobs`` forked processes."""
    last = AuditEvent.objects.filter(position__isnull=False).aggregate(last=Max("position"))["last"]
    size = 0 if last is None else last + 1
    tasks = [
        (start, min(start + PARALLEL_CHUNK, size), wanted_chains) for start in range(0, size, PARALLEL_CHUNK)
    ]
    # Workers open their own connections, so they see only committed rows: inside a transaction
    # (tests, or a caller's atomic block) and on SQLite the work stays in-process. They are
    # spawned, not forked: a fork of a process with threads (Celery, a web server) can inherit a
    # lock some other thread held and hang.
    if jobs <= 1 or len(tasks) <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from map(verify_chunk, tasks)
        return
    # An executor, not a Pool: a worker that dies raises BrokenProcessPool instead of being
    # replaced forever.
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=verification_worker.start,
        initargs=(dict(connection.settings_dict),),
    ) as executor:
        yield from executor.map(verification_worker.verify_chunk, tasks)


def audit_verify(
    *, witness_keys: tuple[Ed25519PublicKey, ...] = (), jobs: int = 1, published: tuple[dict, ...] = ()
) -> VerificationReport:
    """Recompute everything; the report lists every problem in chain order, the first one first.
    ``published`` are checkpoints kept outside the database (``audit.published``): the trail must
    still hold and match each.

    With ``jobs`` > 1 on PostgreSQL, links and leaves are checked by that many processes, each
    over its own range and connection; the tree, nodes and checkpoints are checked here in order.
    """
    started = time.perf_counter()
    report = VerificationReport()
    trusted = keys.trusted_public_keys()
    witness_by_id = {key_id(key): key for key in witness_keys}
    checkpoints = list(AuditCheckpoint.objects.order_by("sequence").prefetch_related("witness_signatures"))
    due = iter(checkpoints)
    next_checkpoint = next(due, None)
    previous_checkpoint: AuditCheckpoint | None = None
    nodes = _NodeChecker(report)
    tree = CompactRange(on_subtree=nodes, every=selectors.NODE_STRIDE)

    def check_checkpoint(checkpoint: AuditCheckpoint, stored_chain: bytes | None) -> None:
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
                    f"found {hex_of(checkpoint.root_hash)}",
                )
            )
        if bytes(checkpoint.chain_hash) != stored_chain:
            report.problems.append(
                Problem(
                    where,
                    f"chain hash does not match event {checkpoint.tree_size - 1}; "
                    f"expected {hex_of(stored_chain)}, found {hex_of(checkpoint.chain_hash)}",
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

    chains: dict[int, bytes] = {}
    for chunk in _chunks(jobs, frozenset(c.tree_size - 1 for c in checkpoints)):
        report.problems.extend(chunk.problems)
        chains.update(chunk.chains)
        leaves = chunk.leaves
        for offset in range(0, len(leaves), 32):
            tree.append(leaves[offset : offset + 32])
            while next_checkpoint is not None and next_checkpoint.tree_size == tree.size:
                check_checkpoint(next_checkpoint, chains.get(tree.size - 1))
                report.checkpoints += 1
                next_checkpoint = next(due, None)
        if chunk.gap:
            break
    report.events = tree.size

    for checkpoint in [c for c in checkpoints if c.tree_size > report.events]:
        report.problems.append(
            Problem(
                f"checkpoint #{checkpoint.sequence} (tree size {checkpoint.tree_size})",
                f"covers more events than the {report.events} sealed ones",
            )
        )
    nodes.finish()
    report.problems.extend(
        published_problems(list(published), checkpoints, report.events, trusted, witness_by_id)
    )
    state = AuditSealState.objects.filter(pk=1).first()
    if state is not None and state.tree_size != report.events and not report.problems:
        report.problems.append(
            Problem("seal state", f"says {state.tree_size} events are sealed, found {report.events}")
        )
    report.unsealed = AuditEvent.objects.filter(position__isnull=True).count()
    report.seconds = time.perf_counter() - started
    return report
