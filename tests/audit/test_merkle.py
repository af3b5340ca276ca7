"""Tests for the RFC 6962 Merkle tree (audit.merkle) and the offline receipt verifier.

Pure Python: no Django, no database.
"""

from __future__ import annotations

import ast
import base64
import copy
import functools
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import verify_receipt as vr
from audit.merkle import (
    ListSource,
    consistency_proof,
    inclusion_proof,
    largest_power_of_two_below,
    merkle_root,
    range_hash,
    verify_consistency,
)
from audit.verify_receipt import (
    EMPTY_ROOT,
    ProofError,
    canonical_json,
    key_id,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_inclusion,
    verify_receipt,
)
from tests.fuzz import examples

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def h(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string)


def flip(data: bytes, index: int = 0, bit: int = 0) -> bytes:
    """Copy of ``data`` with one bit flipped."""
    out = bytearray(data)
    out[index % len(out)] ^= 1 << bit
    return bytes(out)


# --------------------------------------------------------------------------
# Published test vectors
#
# Source: github.com/transparency-dev/merkle, proof/verify_test.go (Apache 2.0),
# commit 02194e9afb6c1d95b5381350007963aa70fff472: the `leaves`, `roots`,
# `inclusionProofs` and `consistencyProofs` tables, which descend from the
# certificate-transparency merkle tree tests.  Their inclusion vectors count
# leaves from 1 ({leaf, size, proof}); they are converted to 0-based indices here.
# --------------------------------------------------------------------------

CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_LEAF_HASHES = [leaf_hash(entry) for entry in CT_LEAVES]

# tree size -> root
CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# (0-based leaf index, tree size) -> PATH
CT_INCLUSION = {
    (0, 1): [],
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    ],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}

# (first size, second size) -> PROOF
CT_CONSISTENCY = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (6, 7): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}

SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_empty_tree_hash_is_sha256_of_nothing():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle_root([]) == EMPTY_ROOT
    assert range_hash(ListSource([]), 0, 0) == EMPTY_ROOT


def test_leaf_and_node_hash_domain_separation():
    assert leaf_hash(b"").hex() == CT_ROOTS[1]
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("size", sorted(CT_ROOTS))
def test_published_roots(size):
    assert merkle_root(CT_LEAF_HASHES[:size]).hex() == CT_ROOTS[size]
    assert range_hash(ListSource(CT_LEAF_HASHES[:size]), 0, size).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size"), sorted(CT_INCLUSION))
def test_published_inclusion_proofs(index, size):
    expected = [h(x) for x in CT_INCLUSION[index, size]]
    root = h(CT_ROOTS[size])
    leaf = CT_LEAF_HASHES[index]

    assert inclusion_proof(ListSource(CT_LEAF_HASHES[:size]), index, size) == expected
    assert root_from_inclusion_proof(index, size, leaf, expected) == root
    assert verify_inclusion(index, size, leaf, expected, root)

    # The corruption probes of the Go test suite (corruptInclusionProof).
    probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (index - 1, size, leaf, root, expected),
        (index + 1, size, leaf, root, expected),
        (index ^ 2, size, leaf, root, expected),
        (index, size * 2, leaf, root, expected),
        (index, size // 2, leaf, root, expected),
        (index, size, b"WrongLeaf", root, expected),
        (index, size, leaf, EMPTY_ROOT, expected),
        (index, size, leaf, SOME_HASH, expected),
        (index, size, leaf, root, [*expected, b""]),
        (index, size, leaf, root, [*expected, root]),
        (index, size, leaf, root, [b"", *expected]),
        (index, size, leaf, root, [root, *expected]),
    ]
    for i in range(len(expected)):
        wrong = list(expected)
        wrong[i] = flip(wrong[i], 0, 3)
        probes.append((index, size, leaf, root, wrong))
    if expected:
        probes.append((index, size, leaf, root, expected[:-1]))
    if len(expected) > 1:
        probes.append((index, size, leaf, root, [expected[0], SOME_HASH, *expected[1:]]))
    for p_index, p_size, p_leaf, p_root, p_path in probes:
        assert not verify_inclusion(p_index, p_size, p_leaf, p_path, p_root), (p_index, p_size)


@pytest.mark.parametrize(("first", "second"), sorted(CT_CONSISTENCY))
def test_published_consistency_proofs(first, second):
    expected = [h(x) for x in CT_CONSISTENCY[first, second]]
    root1, root2 = h(CT_ROOTS[first]), h(CT_ROOTS[second])

    assert consistency_proof(ListSource(CT_LEAF_HASHES[:second]), first, second) == expected
    assert verify_consistency(first, second, root1, root2, expected)
    if not expected:
        return

    # The corruption probes of the Go test suite (corruptConsistencyProof).
    probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (first - 1, second, root1, root2, expected),
        (first + 1, second, root1, root2, expected),
        (first ^ 2, second, root1, root2, expected),
        (first, second * 2, root1, root2, expected),
        (first, second // 2, root1, root2, expected),
        (first, second, b"WrongRoot", root2, expected),
        (first, second, root1, b"WrongRoot", expected),
        (first, second, root2, root1, expected),
        (first, second, root1, root2, []),
        (first, second, root1, root2, [*expected, b""]),
        (first, second, root1, root2, [*expected, root1]),
        (first, second, root1, root2, [*expected, root2]),
        (first, second, root1, root2, [b"", *expected]),
        (first, second, root1, root2, [root1, *expected]),
        (first, second, root1, root2, [root2, *expected]),
        (first, second, root1, root2, [expected[0], *expected]),
        (first, second, root1, root2, expected[:-1]),
    ]
    for i in range(len(expected)):
        wrong = list(expected)
        wrong[i] = flip(wrong[i], 0, 4)
        probes.append((first, second, root1, root2, wrong))
    for p_first, p_second, p_root1, p_root2, p_proof in probes:
        assert not verify_consistency(p_first, p_second, p_root1, p_root2, p_proof), (p_first, p_second)


@pytest.mark.parametrize(
    ("first", "second", "root1", "root2", "proof", "expected"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 1, EMPTY_ROOT, SOME_HASH, [], True),
        (1, 1, SOME_HASH, SOME_HASH, [], True),
        (1, 1, SOME_HASH, EMPTY_ROOT, [], False),
        # Time travel to the past.
        (1, 0, SOME_HASH, EMPTY_ROOT, [], False),
        (2, 1, SOME_HASH, SOME_HASH, [], False),
        # A real extension needs a proof.
        (1, 2, SOME_HASH, EMPTY_ROOT, [], False),
        # Equal sizes (or an empty first tree) take no proof.
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, SOME_HASH, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        # Stricter than the Go library: an empty tree only has the empty root.
        (0, 1, SOME_HASH, SOME_HASH, [], False),
        (0, 0, SOME_HASH, SOME_HASH, [], False),
        (-1, 1, EMPTY_ROOT, SOME_HASH, [], False),
    ],
)
def test_consistency_edge_cases(first, second, root1, root2, proof, expected):
    assert verify_consistency(first, second, root1, root2, proof) is expected


# --------------------------------------------------------------------------
# Argument checking
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k"), [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512), (1 << 20, 1 << 19)]
)
def test_largest_power_of_two_below(n, k):
    assert largest_power_of_two_below(n) == k


@pytest.mark.parametrize("n", [-1, 0, 1])
def test_largest_power_of_two_below_rejects_small_n(n):
    with pytest.raises(ValueError):
        largest_power_of_two_below(n)


def test_root_from_inclusion_proof_rejects_bad_input():
    leaf = CT_LEAF_HASHES[0]
    path = [h(x) for x in CT_INCLUSION[0, 8]]
    assert issubclass(ProofError, ValueError)
    with pytest.raises(ProofError, match="outside"):
        root_from_inclusion_proof(8, 8, leaf, path)
    with pytest.raises(ProofError, match="outside"):
        root_from_inclusion_proof(-1, 8, leaf, path)
    with pytest.raises(ProofError, match="outside"):
        root_from_inclusion_proof(0, 0, leaf, [])
    with pytest.raises(ProofError, match="shorter"):
        root_from_inclusion_proof(0, 8, leaf, path[:-1])
    with pytest.raises(ProofError, match="longer"):
        root_from_inclusion_proof(0, 8, leaf, [*path, SOME_HASH])
    with pytest.raises(ProofError, match="bytes"):
        root_from_inclusion_proof(0, 8, leaf, [*path[:-1], b"short"])
    with pytest.raises(ProofError, match="bytes"):
        root_from_inclusion_proof(0, 1, b"", [])


def test_builders_reject_impossible_requests():
    source = ListSource(CT_LEAF_HASHES)
    with pytest.raises(ValueError):
        inclusion_proof(source, 8, 8)
    with pytest.raises(ValueError):
        inclusion_proof(source, -1, 8)
    with pytest.raises(ValueError):
        consistency_proof(source, 5, 4)
    with pytest.raises(ValueError):
        range_hash(source, 5, 4)
    with pytest.raises(ValueError, match="aligned"):
        source.subtree_hash(2, 4)
    with pytest.raises(ValueError, match="aligned"):
        source.subtree_hash(0, 3)
    with pytest.raises(ValueError, match="past"):
        source.subtree_hash(8, 1)


# --------------------------------------------------------------------------
# Properties over many tree shapes
# --------------------------------------------------------------------------

MAX_LEAVES = 3000
LEAVES = [leaf_hash(b"event %d" % i) for i in range(MAX_LEAVES)]


@functools.cache
def root_of(size: int) -> bytes:
    return merkle_root(LEAVES[:size])


def reference_mth(leaf_hashes: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 MTH, transcribed literally (recursive; small inputs only)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(reference_mth(leaf_hashes[:k]), reference_mth(leaf_hashes[k:]))


def path_shape(leaf_index: int, tree_size: int) -> list[bool]:
    """For each path element, whether it is hashed on the left (independent of the verifier).

    Below the level where the leaf's path leaves the right border the order
    follows the index bits; above it every sibling is a left sibling.
    """
    inner = (leaf_index ^ (tree_size - 1)).bit_length()
    border = bin(leaf_index >> inner).count("1")
    return [bool(leaf_index >> level & 1) for level in range(inner)] + [True] * border


hash_strategy = st.binary(min_size=32, max_size=32)


def test_merkle_root_matches_the_rfc_definition_for_small_trees():
    for n in range(0, 130):
        assert merkle_root(LEAVES[:n]) == reference_mth(LEAVES[:n]), n


def test_every_inclusion_and_consistency_proof_of_small_trees():
    size_limit = 64
    source = ListSource(LEAVES[:size_limit])
    for n in range(1, size_limit + 1):
        for i in range(n):
            proof = inclusion_proof(source, i, n)
            assert verify_inclusion(i, n, LEAVES[i], proof, root_of(n)), (i, n)
            assert len(proof) == len(path_shape(i, n))
    for n in range(0, size_limit + 1):
        for m in range(0, n + 1):
            assert verify_consistency(m, n, root_of(m), root_of(n), consistency_proof(source, m, n)), (m, n)


@settings(max_examples=examples(60), deadline=None)
@given(n=st.integers(0, MAX_LEAVES))
def test_merkle_root_equals_range_hash(n):
    assert merkle_root(LEAVES[:n]) == range_hash(ListSource(LEAVES[:n]), 0, n)


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data())
def test_range_hash_of_any_slice_is_the_mth_of_that_slice(data):
    start = data.draw(st.integers(0, 300), label="start")
    end = data.draw(st.integers(start, 300), label="end")
    assert range_hash(ListSource(LEAVES[:300]), start, end) == reference_mth(LEAVES[start:end])


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data())
def test_inclusion_proofs_verify_and_reject_tampering(data):
    n = data.draw(st.integers(1, MAX_LEAVES), label="tree_size")
    i = data.draw(st.integers(0, n - 1), label="leaf_index")
    root, leaf = root_of(n), LEAVES[i]
    proof = inclusion_proof(ListSource(LEAVES[:n]), i, n)

    assert verify_inclusion(i, n, leaf, proof, root)
    assert root_from_inclusion_proof(i, n, leaf, proof) == root
    assert len(proof) <= (n - 1).bit_length()

    byte = data.draw(st.integers(0, 31), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    assert not verify_inclusion(i, n, flip(leaf, byte, bit), proof, root)
    assert not verify_inclusion(i, n, leaf, proof, flip(root, byte, bit))
    for k in range(len(proof)):
        tampered = list(proof)
        tampered[k] = flip(tampered[k], byte, bit)
        assert not verify_inclusion(i, n, leaf, tampered, root), k

    if n > 1:
        other = data.draw(st.integers(0, n - 2), label="other_index")
        other += other >= i
        assert not verify_inclusion(other, n, leaf, proof, root)

    other_size = data.draw(st.integers(i + 1, MAX_LEAVES).filter(lambda s: s != n), label="other_size")
    assert not verify_inclusion(i, other_size, leaf, proof, root_of(other_size))
    # Against the *original* root a different size only gets through when it
    # gives the path the very same shape: a root is only meaningful together
    # with the tree size it is signed with.
    same_shape = path_shape(i, other_size) == path_shape(i, n)
    assert verify_inclusion(i, other_size, leaf, proof, root) is same_shape

    extra = data.draw(hash_strategy, label="extra")
    if proof:
        assert not verify_inclusion(i, n, leaf, proof[:-1], root)
        assert not verify_inclusion(i, n, leaf, proof[1:], root)
    assert not verify_inclusion(i, n, leaf, [*proof, extra], root)
    assert not verify_inclusion(i, n, leaf, [extra, *proof], root)


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data())
def test_consistency_proofs_verify_and_reject_tampering(data):
    n = data.draw(st.integers(0, MAX_LEAVES), label="second_size")
    m = data.draw(st.integers(0, n), label="first_size")
    root1, root2 = root_of(m), root_of(n)
    proof = consistency_proof(ListSource(LEAVES[:n]), m, n)

    assert verify_consistency(m, n, root1, root2, proof)
    if m in (0, n):
        assert proof == []
        return
    assert len(proof) <= 2 * (n - 1).bit_length()

    byte = data.draw(st.integers(0, 31), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    assert not verify_consistency(m, n, flip(root1, byte, bit), root2, proof)
    assert not verify_consistency(m, n, root1, flip(root2, byte, bit), proof)
    assert not verify_consistency(m, n, root2, root1, proof)
    for k in range(len(proof)):
        tampered = list(proof)
        tampered[k] = flip(tampered[k], byte, bit)
        assert not verify_consistency(m, n, root1, root2, tampered), k

    other_first = data.draw(st.integers(0, n).filter(lambda s: s != m), label="other_first")
    assert not verify_consistency(other_first, n, root1, root2, proof)
    assert not verify_consistency(other_first, n, root_of(other_first), root2, proof)
    other_second = data.draw(st.integers(0, MAX_LEAVES).filter(lambda s: s != n), label="other_second")
    assert not verify_consistency(m, other_second, root1, root_of(other_second), proof)

    extra = data.draw(hash_strategy, label="extra")
    assert not verify_consistency(m, n, root1, root2, [])
    assert not verify_consistency(m, n, root1, root2, proof[:-1])
    assert not verify_consistency(m, n, root1, root2, [*proof, extra])
    assert not verify_consistency(m, n, root1, root2, [extra, *proof])


class CountingSource:
    """Answers every subtree request with a made-up hash and counts the requests."""

    def __init__(self) -> None:
        self.requests = 0

    def subtree_hash(self, start: int, size: int) -> bytes:
        assert size & (size - 1) == 0 and start % size == 0, (start, size)
        self.requests += 1
        return hashlib.sha256(b"%d/%d" % (start, size)).digest()


@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_proofs_need_only_logarithmically_many_subtree_requests(data):
    n = data.draw(st.integers(2, 1 << 40), label="tree_size")
    budget = 2 * n.bit_length() + 2

    source = CountingSource()
    inclusion_proof(source, data.draw(st.integers(0, n - 1), label="leaf_index"), n)
    assert source.requests <= budget

    source = CountingSource()
    consistency_proof(source, data.draw(st.integers(0, n), label="first_size"), n)
    assert source.requests <= budget


def test_merkle_root_of_a_million_leaves():
    n = 1_000_000
    leaves = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]
    k = largest_power_of_two_below(n)
    # The RFC 6962 split of the top node, computed as two independent roots.
    assert merkle_root(leaves) == node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


# --------------------------------------------------------------------------
# Receipts
# --------------------------------------------------------------------------

LOG_ID = "customs-audit-test"
EVENT_COUNT = 13
RECEIPT_POSITION = 5


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def pem(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass
class Fixture:
    receipt: dict[str, Any]
    log_key: Ed25519PrivateKey
    witness_key: Ed25519PrivateKey
    tmp_path: Path

    def write_key(self, name: str, private_key: Any) -> Path:
        path = self.tmp_path / name
        path.write_bytes(pem(private_key))
        return path

    def write_receipt(self, receipt: dict[str, Any]) -> Path:
        path = self.tmp_path / "receipt.json"
        path.write_text(json.dumps(receipt, indent=2), encoding="utf-8")
        return path


def build_receipt(log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey) -> dict[str, Any]:
    """A receipt for event RECEIPT_POSITION of a log of EVENT_COUNT events, made the documented way."""
    events = [
        canonical_json({"seq": i, "actor": "agent-ø", "action": "declaration.sign", "ref": f"D-{i:04d}"})
        for i in range(EVENT_COUNT)
    ]
    chain: list[tuple[bytes, bytes]] = []
    prev = bytes(32)
    for event in events:
        current = hashlib.sha256(prev + event).digest()
        chain.append((prev, current))
        prev = current
    leaves = [leaf_hash(event) for event in events]

    body = {
        "log": LOG_ID,
        "sequence": 3,
        "tree_size": EVENT_COUNT,
        "root_hash": merkle_root(leaves).hex(),
        "chain_hash": chain[-1][1].hex(),
        "prev_checkpoint_hash": "",
        "issued_at": "2026-11-23T17:08:04.123456Z",
        "key_id": key_id(log_key.public_key()),
    }
    signed = canonical_json(body)
    return {
        "version": 1,
        "log": LOG_ID,
        "event": {
            "canonical": b64(events[RECEIPT_POSITION]),
            "position": RECEIPT_POSITION,
            "chain_hash": chain[RECEIPT_POSITION][1].hex(),
            "prev_chain_hash": chain[RECEIPT_POSITION][0].hex(),
        },
        "inclusion": {
            "leaf_index": RECEIPT_POSITION,
            "tree_size": EVENT_COUNT,
            "path": [p.hex() for p in inclusion_proof(ListSource(leaves), RECEIPT_POSITION, EVENT_COUNT)],
        },
        "checkpoint": {"body": body, "signature": b64(log_key.sign(signed))},
        "witnesses": [
            {
                "key_id": key_id(witness_key.public_key()),
                "signature": b64(witness_key.sign(signed)),
                "signed_at": "2026-11-23T17:08:05Z",
            }
        ],
    }


@pytest.fixture
def fx(tmp_path: Path) -> Fixture:
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    return Fixture(build_receipt(log_key, witness_key), log_key, witness_key, tmp_path)


def run_main(fx: Fixture, receipt: dict[str, Any], capsys, *extra: str) -> tuple[int, str, str]:
    receipt_path = fx.write_receipt(receipt)
    key_path = fx.write_key("log.pem", fx.log_key)
    code = vr.main([str(receipt_path), "--public-key", str(key_path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_receipt(fx, capsys):
    code, out, err = run_main(fx, fx.receipt, capsys)
    assert code == 0, out
    assert out.rstrip().endswith("receipt OK")
    assert "ok   inclusion:" in out
    assert "ok   signature:" in out
    # The witness key was not given, so the co-signature is reported, not judged.
    assert "not checked" in out
    assert err == ""


def test_valid_receipt_with_witness_and_rotated_keys(fx, capsys):
    old_key = fx.write_key("old.pem", Ed25519PrivateKey.generate())
    witness = fx.write_key("witness.pem", fx.witness_key)
    code, out, _ = run_main(
        fx, fx.receipt, capsys, "--public-key", str(old_key), "--witness-key", str(witness)
    )
    assert code == 0, out
    assert f"ok   witness {key_id(fx.witness_key.public_key())}: co-signature verified" in out

    result = verify_receipt(fx.receipt, [fx.log_key.public_key()], [fx.witness_key.public_key()])
    assert result.ok
    assert result.problems == []
    assert result.witnesses_verified == [key_id(fx.witness_key.public_key())]


def test_bad_witness_signature_is_a_problem(fx):
    receipt = copy.deepcopy(fx.receipt)
    receipt["witnesses"][0]["signature"] = b64(fx.witness_key.sign(b"something else"))
    result = verify_receipt(receipt, [fx.log_key.public_key()], [fx.witness_key.public_key()])
    assert not result.ok
    assert result.witnesses_verified == []
    assert any("witness signature by key" in p and "does not verify" in p for p in result.problems)


def _tamper_canonical(r: dict[str, Any]) -> None:
    r["event"]["canonical"] = b64(flip(base64.b64decode(r["event"]["canonical"]), 7))


def _tamper_path(r: dict[str, Any]) -> None:
    r["inclusion"]["path"][1] = flip(h(r["inclusion"]["path"][1]), 3).hex()


def _tamper_root(r: dict[str, Any]) -> None:
    r["checkpoint"]["body"]["root_hash"] = flip(h(r["checkpoint"]["body"]["root_hash"]), 0).hex()


def _tamper_signature(r: dict[str, Any]) -> None:
    r["checkpoint"]["signature"] = b64(flip(base64.b64decode(r["checkpoint"]["signature"]), 10))


def _tamper_chain_hash(r: dict[str, Any]) -> None:
    r["event"]["chain_hash"] = flip(h(r["event"]["chain_hash"]), 31).hex()


def _tamper_prev_chain_hash(r: dict[str, Any]) -> None:
    r["event"]["prev_chain_hash"] = flip(h(r["event"]["prev_chain_hash"]), 0).hex()


def _tamper_position(r: dict[str, Any]) -> None:
    r["event"]["position"] = RECEIPT_POSITION + 1


def _tamper_tree_size(r: dict[str, Any]) -> None:
    r["inclusion"]["tree_size"] = EVENT_COUNT + 1


def _tamper_log(r: dict[str, Any]) -> None:
    r["log"] = "another-log"


def _tamper_version(r: dict[str, Any]) -> None:
    r["version"] = 2


def _tamper_missing_field(r: dict[str, Any]) -> None:
    del r["checkpoint"]["body"]["root_hash"]


INCLUSION_FAILS = "does not lead to the checkpoint root hash"
SIGNATURE_FAILS = "checkpoint signature does not verify"
CHAIN_FAILS = "event chain hash does not match SHA-256(prev_chain_hash || canonical event)"


@pytest.mark.parametrize(
    ("tamper", "expected_problems"),
    [
        (_tamper_canonical, [INCLUSION_FAILS, CHAIN_FAILS]),
        (_tamper_path, [INCLUSION_FAILS]),
        (_tamper_root, [INCLUSION_FAILS, SIGNATURE_FAILS]),
        (_tamper_signature, [SIGNATURE_FAILS]),
        (_tamper_chain_hash, [CHAIN_FAILS]),
        (_tamper_prev_chain_hash, [CHAIN_FAILS]),
        (_tamper_position, ["event position 6 does not match inclusion leaf index 5"]),
        (_tamper_tree_size, ["inclusion proof is for tree size 14 but the checkpoint covers 13 entries"]),
        (_tamper_log, ["receipt is for log 'another-log' but the checkpoint is for log"]),
        (_tamper_version, ["receipt is malformed: unsupported receipt version 2"]),
        (_tamper_missing_field, ["receipt is malformed: checkpoint.body.root_hash is missing"]),
    ],
    ids=lambda v: v.__name__.removeprefix("_tamper_") if callable(v) else None,
)
def test_tampered_receipt_is_invalid(fx, capsys, tamper: Callable[[dict[str, Any]], None], expected_problems):
    receipt = copy.deepcopy(fx.receipt)
    tamper(receipt)
    code, out, err = run_main(fx, receipt, capsys)
    assert code == 1, out
    final = out.rstrip().splitlines()[-1]
    assert final.startswith("receipt INVALID: ")
    for problem in expected_problems:
        assert problem in final
    assert err == ""

    result = verify_receipt(receipt, [fx.log_key.public_key()])
    assert not result.ok
    assert len(result.problems) == len(expected_problems), result.problems


def test_receipt_signed_with_another_key_is_invalid(fx, capsys):
    stranger = Ed25519PrivateKey.generate()
    receipt_path = fx.write_receipt(fx.receipt)
    key_path = fx.write_key("stranger.pem", stranger)
    code = vr.main([str(receipt_path), "--public-key", str(key_path)])
    out, _ = capsys.readouterr()
    assert code == 1
    expected = (
        f"checkpoint is signed with key {key_id(fx.log_key.public_key())}, which is not among "
        f"the given public keys ({key_id(stranger.public_key())})"
    )
    assert expected in out.splitlines()[-1]


def test_event_at_position_zero_needs_a_zero_prev_chain_hash(fx):
    receipt = copy.deepcopy(fx.receipt)
    receipt["event"]["position"] = 0
    receipt["inclusion"]["leaf_index"] = 0
    result = verify_receipt(receipt, [fx.log_key.public_key()])
    assert "event at position 0 must have a prev_chain_hash of 64 zeros" in result.problems


def test_unreadable_inputs_exit_2(fx, capsys):
    receipt_path = fx.write_receipt(fx.receipt)
    key_path = fx.write_key("log.pem", fx.log_key)
    not_pem = fx.tmp_path / "not.pem"
    not_pem.write_text("this is not a key\n")
    ec_key = fx.write_key("ec.pem", generate_private_key(SECP256R1()))
    not_json = fx.tmp_path / "broken.json"
    not_json.write_text("{not json")

    cases = [
        [str(fx.tmp_path / "missing.json"), "--public-key", str(key_path)],
        [str(receipt_path), "--public-key", str(fx.tmp_path / "missing.pem")],
        [str(receipt_path), "--public-key", str(not_pem)],
        [str(receipt_path), "--public-key", str(ec_key)],
        [str(receipt_path), "--public-key", str(key_path), "--witness-key", str(not_pem)],
        [str(not_json), "--public-key", str(key_path)],
    ]
    for argv in cases:
        assert vr.main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == ""
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("error: ")
        assert "Traceback" not in err

    # Usage errors come back as a status instead of SystemExit.
    assert vr.main([str(receipt_path)]) == 2
    capsys.readouterr()


def top_level_imports(path: Path) -> set[str]:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import in {path.name}"
            imported.add((node.module or "").split(".")[0])
    return imported


def test_verifier_module_is_standalone():
    """verify_receipt.py may import only the standard library and cryptography."""
    imported = top_level_imports(PROJECT_ROOT / "audit" / "verify_receipt.py")
    allowed = set(sys.stdlib_module_names) | {"cryptography"}
    assert imported <= allowed, imported - allowed


def test_merkle_module_does_not_need_django():
    imported = top_level_imports(PROJECT_ROOT / "audit" / "merkle.py")
    allowed = set(sys.stdlib_module_names) | {"audit"}
    assert imported <= allowed, imported - allowed


def test_runs_as_a_module_in_a_subprocess(fx):
    receipt_path = fx.write_receipt(fx.receipt)
    key_path = fx.write_key("log.pem", fx.log_key)
    # -E -s: no PYTHONPATH or user site, so only the interpreter's own
    # packages (standard library, cryptography) and the project directory.
    command = [sys.executable, "-E", "-s", "-m", "audit.verify_receipt", str(receipt_path)]
    ok = subprocess.run(
        [*command, "--public-key", str(key_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().endswith("receipt OK")

    tampered = copy.deepcopy(fx.receipt)
    _tamper_path(tampered)
    fx.write_receipt(tampered)
    bad = subprocess.run(
        [*command, "--public-key", str(key_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert INCLUSION_FAILS in bad.stdout.splitlines()[-1]
