"""Checking one range of the hash chain: every link and leaf in positions [start, end).

Shared by ``audit.verification``, which runs it inline, and ``audit.verification_worker``, whose
spawned processes run it over their own connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.canonical import ZERO_HASH, leaf_and_chain
from audit.models import AuditEvent
from audit.selectors import sealed_canonical_rows

STREAM_CHUNK = 10_000


@dataclass
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def hex_of(value: bytes | None) -> str:
    return bytes(value).hex() if value is not None else "nothing"


@dataclass
class Chunk:
    """What one worker found in positions [start, end): leaf hashes, link problems, and the stored
    chain hashes the checkpoints ending inside it must match."""

    start: int
    count: int = 0
    leaves: bytes = b""
    problems: list[Problem] = field(default_factory=list)
    chains: dict[int, bytes] = field(default_factory=dict)
    gap: bool = False


def verify_chunk(task: tuple[int, int, frozenset[int]]) -> Chunk:
    """Check every link and leaf in positions [start, end). Runs in a worker process or inline."""
    start, end, wanted_chains = task
    chunk = Chunk(start=start)
    # Each link is checked against the stored previous hash, so one edit gives one problem; when
    # every link holds, the stored chain is the recomputed chain and checkpoints compare to it.
    if start == 0:
        previous = ZERO_HASH
    else:
        stored = AuditEvent.objects.filter(position=start - 1).values_list("chain_hash", flat=True).first()
        previous = bytes(stored) if stored is not None else ZERO_HASH
    leaves: list[bytes] = []
    expected = start
    while expected < end and not chunk.gap:
        rows = sealed_canonical_rows(expected, min(STREAM_CHUNK, end - expected))
        if not rows:
            chunk.problems.append(Problem(f"event position {expected}", "missing; no later event is stored"))
            chunk.gap = True
        for position, chain_hash, stored_leaf, event_id, canonical in rows:
            if position != expected:
                chunk.problems.append(
                    Problem(
                        f"event position {expected}",
                        f"missing; the next stored event has position {position}",
                    )
                )
                # Nothing after a gap can match a checkpoint: report it once and stop here.
                chunk.gap = True
                break
            leaf, link = leaf_and_chain(previous, canonical)
            if link != chain_hash:
                chunk.problems.append(
                    Problem(
                        f"event position {position} (event {event_id})",
                        f"chain hash does not match; expected {link.hex()}, found {chain_hash.hex()}",
                    )
                )
            if stored_leaf != leaf:
                chunk.problems.append(
                    Problem(
                        f"event position {position} (event {event_id})",
                        f"leaf hash does not match; expected {leaf.hex()}, found {hex_of(stored_leaf)}",
                    )
                )
            if position in wanted_chains:
                chunk.chains[position] = chain_hash
            previous = chain_hash
            leaves.append(leaf)
            expected += 1
    chunk.count = len(leaves)
    chunk.leaves = b"".join(leaves)
    return chunk
