"""Building side of the audit log's RFC 6962 Merkle tree: roots and proofs.

A receipt's checks live in :mod:`audit.verify_receipt` (standard library and
``cryptography`` only, so auditors can run it alone); this module produces
what that module checks, and checks the consistency proofs witnesses verify.
Nothing here touches Django: proofs are built over a :class:`SubtreeSource`,
which the log's storage layer can back with stored subtree hashes, and which
:class:`ListSource` implements in memory.

Every range the RFC 6962 PATH and PROOF recursions visit splits into
complete, aligned power-of-two subtrees, so a source that can answer
``subtree_hash(start, size)`` cheaply (for instance from a table keyed by
level and index) yields proofs with O(log n) lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

from audit.verify_receipt import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "ListSource",
    "SubtreeSource",
    "consistency_proof",
    "inclusion_proof",
    "largest_power_of_two_below",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "range_hash",
    "verify_consistency",
]


def largest_power_of_two_below(n: int) -> int:
    """RFC 6962's k: the largest power of two strictly smaller than ``n`` (n >= 2)."""
    if n < 2:
        raise ValueError(f"no power of two is strictly below {n} in a tree split (need n >= 2)")
    return 1 << ((n - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves; EMPTY_ROOT for an empty sequence.

    Built level by level rather than by RFC 6962's recursive split: pairing
    neighbours and carrying an unpaired last node up unchanged produces the
    same tree, because the left part of every split is a perfect subtree that
    pairing builds exactly, and the carried node is the root of the ragged
    right edge waiting for its partner.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    sha256 = hashlib.sha256  # hot loop for large trees; skip node_hash's call overhead
    while len(level) > 1:
        paired = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class SubtreeSource(Protocol):
    """Where proof builders get hashes from."""

    def subtree_hash(self, start: int, size: int) -> bytes:
        """MTH of the complete subtree of ``size`` leaves starting at ``start``.

        ``size`` is a power of two and ``start % size == 0``; size 1 is the
        leaf hash itself.
        """
        ...


def range_hash(source: SubtreeSource, start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)``, asking ``source`` only for aligned subtrees.

    Ranges whose start is aligned to their RFC 6962 split (every range the
    proof builders use) cost one request per set bit of ``end - start``.
    """
    if not 0 <= start <= end:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    size = end - start
    if size == 0:
        return EMPTY_ROOT
    if _is_power_of_two(size) and start % size == 0:
        return source.subtree_hash(start, size)
    k = largest_power_of_two_below(size)
    return node_hash(range_hash(source, start, start + k), range_hash(source, start + k, end))


def inclusion_proof(source: SubtreeSource, leaf_index: int, tree_size: int) -> list[bytes]:
    """RFC 6962 PATH(leaf_index, D[tree_size]), ordered from the leaf upwards."""
    if not 0 <= leaf_index < tree_size:
        raise ValueError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    # Walk the recursion top-down over [lo, hi) and reverse at the end, since
    # PATH lists the deepest sibling first.
    siblings: list[bytes] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = largest_power_of_two_below(hi - lo)
        mid = lo + k
        if leaf_index < mid:
            siblings.append(range_hash(source, mid, hi))
            hi = mid
        else:
            siblings.append(range_hash(source, lo, mid))
            lo = mid
    siblings.reverse()
    return siblings


def consistency_proof(source: SubtreeSource, first_size: int, second_size: int) -> list[bytes]:
    """RFC 6962 PROOF(first_size, D[second_size]); empty when there is nothing to prove."""
    if not 0 <= first_size <= second_size:
        raise ValueError(f"cannot prove size {first_size} against size {second_size}")
    if first_size in (0, second_size):
        return []
    # Iterative SUBPROOF(m, D[lo:hi], b), collected top-down then reversed.
    nodes: list[bytes] = []
    lo, hi = 0, second_size
    complete_old_tree = True  # RFC 6962's b: the old tree is still a left prefix
    while first_size != hi:
        k = largest_power_of_two_below(hi - lo)
        mid = lo + k
        if first_size <= mid:
            nodes.append(range_hash(source, mid, hi))
            hi = mid
        else:
            nodes.append(range_hash(source, lo, mid))
            lo = mid
            complete_old_tree = False
    if not complete_old_tree:
        # The verifier cannot derive this subtree from the old root alone.
        nodes.append(range_hash(source, lo, hi))
    nodes.reverse()
    return nodes


class ListSource:
    """In-memory SubtreeSource over a list of leaf hashes, for tests and small trees.

    Levels of complete subtrees are computed on first use and kept, so
    repeated proofs over the same tree cost one hash per node overall.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._levels: list[list[bytes]] = [list(leaf_hashes)]

    def __len__(self) -> int:
        return len(self._levels[0])

    def subtree_hash(self, start: int, size: int) -> bytes:
        """MTH of the aligned complete subtree ``[start, start + size)``."""
        if not _is_power_of_two(size) or start < 0 or start % size:
            raise ValueError(f"[{start}, {start + size}) is not an aligned power-of-two subtree")
        if start + size > len(self):
            raise ValueError(f"[{start}, {start + size}) extends past {len(self)} leaves")
        height = size.bit_length() - 1
        return self._level(height)[start >> height]

    def _level(self, height: int) -> list[bytes]:
        while len(self._levels) <= height:
            below = self._levels[-1]
            # Only complete pairs: an unpaired node is not the root of any
            # complete subtree at the next level.
            self._levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        return self._levels[height]


class CompactRange:
    """The right edge of a growing tree: one perfect-subtree root per set bit of the size.

    Appending is amortised O(1) and ``root()`` is O(log n), so a verifier streaming every leaf
    once can check each checkpoint's root as it passes its size.
    """

    def __init__(self, on_subtree: Callable[[int, int, bytes], None] | None = None, every: int = 1) -> None:
        """``on_subtree(height, index, hash)`` is called for each complete subtree whose height is
        a positive multiple of ``every``, as it completes (what a verifier compares stored nodes to)."""
        self.size = 0
        self._peaks: list[bytes] = []  # largest (leftmost) first
        self._on_subtree = on_subtree
        self._every = every

    def append(self, leaf: bytes) -> None:
        node = leaf
        size = self.size
        height = 0
        # Each trailing one bit of the old size is a peak that now has a right sibling.
        while size & 1:
            node = node_hash(self._peaks.pop(), node)
            size >>= 1
            height += 1
            if self._on_subtree is not None and height % self._every == 0:
                self._on_subtree(height, ((self.size + 1) >> height) - 1, node)
        self._peaks.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        node = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            node = node_hash(peak, node)
        return node


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """True when ``proof`` shows the first tree is a prefix of the second (RFC 9162 section 2.1.4.2)."""
    if first_size < 0 or second_size < first_size:
        return False
    if first_size == 0:
        # Every tree extends the empty one, so there is nothing to prove, but a
        # "size 0" checkpoint whose root is not the empty hash is bogus.
        return not proof and first_root == EMPTY_ROOT and (second_size > 0 or second_root == EMPTY_ROOT)
    if first_size == second_size:
        return not proof and first_root == second_root
    if not proof:
        return False
    if any(len(node) != HASH_SIZE for node in proof):
        return False

    path = list(proof)
    # When the old tree is a complete subtree of the new one its root is a
    # node of the new tree and the proof leaves it out; put it back.
    if first_size & (first_size - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
