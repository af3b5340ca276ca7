"""Offline verifier for audit-log receipts.

A receipt proves that one event is part of the append-only audit log: it
carries the event's canonical bytes, an RFC 6962 / RFC 9162 Merkle inclusion
proof up to a checkpoint signed with the log's Ed25519 key, and optional
witness co-signatures on that checkpoint.

This file depends only on the Python standard library and ``cryptography`` so
it can be handed to an auditor on its own and run far away from the
application::

    python -m audit.verify_receipt receipt.json --public-key log.pem
    python verify_receipt.py receipt.json --public-key log.pem \\
        --public-key previous-log-key.pem --witness-key witness.pem

Keys are PEM SubjectPublicKeyInfo Ed25519 public keys.  The exit status is
0 when the receipt is valid, 1 when it is not, and 2 when a file cannot be
read or a key cannot be loaded.

Receipt format, version 1 (hashes lowercase hex, byte strings standard padded
base64)::

    {
      "version": 1,
      "log": "<log id>",
      "event": {"canonical": "<base64 of the event's canonical bytes>",
                "position": 41,
                "chain_hash": "<hex>",
                "prev_chain_hash": "<hex; 64 zeros for position 0>",
                "opening": {"salt": "<base64>", "ip": "203.0.113.7 or null",
                            "user_agent": "...", "request_id": "..."}},
      "inclusion": {"leaf_index": 41, "tree_size": 1024, "path": ["<hex>", ...]},
      "checkpoint": {"body": {"log": "...", "sequence": 3, "tree_size": 1024,
                              "root_hash": "<hex>", "chain_hash": "<hex>",
                              "prev_checkpoint_hash": "<hex or empty string>",
                              "issued_at": "2026-11-23T17:08:04.123456Z",
                              "key_id": "<16 hex>"},
                     "signature": "<base64 Ed25519 signature over canonical_json(body)>"},
      "witnesses": [{"key_id": "<16 hex>", "signature": "<base64>", "signed_at": "..."}]
    }

Definitions used throughout:

* leaf hash = SHA-256(0x00 || canonical event bytes), node hash =
  SHA-256(0x01 || left || right) (RFC 6962 section 2.1);
* chain hash = SHA-256(prev_chain_hash || canonical event bytes);
* canonical_json(x) = JSON with sorted keys, no whitespace, UTF-8;
* key id = first 16 hex characters of SHA-256(raw 32-byte public key);
* an event of format 2 ("v":2) carries, instead of its IP address, user agent
  and request id, "context":{"commitment": network_commitment(...)}; the
  optional "opening" gives the salt and the values to whoever may see them,
  and is then checked against that commitment.

The Merkle primitives here are the single implementation the rest of the
project imports, so what the server checks is exactly what auditors check.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "EMPTY_ROOT", "HASH_SIZE", "RECEIPT_VERSION", "Check", "InputError", "ProofError", "ReceiptResult",
    "canonical_json", "key_id", "leaf_hash", "load_public_key", "load_receipt", "main", "network_commitment",
    "node_hash", "root_from_inclusion_proof", "verify_inclusion", "verify_receipt",
]  # fmt: skip

RECEIPT_VERSION = 1
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
ZERO_HASH = bytes(HASH_SIZE)

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_KEY_ID_RE = re.compile(r"[0-9a-f]{16}")


# RFC 6962 / RFC 9162 primitives


class ProofError(ValueError):
    """A Merkle proof cannot be evaluated: impossible index, wrong length or hash size."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_hash_sizes(what: str, hashes: Sequence[bytes]) -> None:
    # A value of any other length cannot be a node of this tree; saying so
    # beats reporting a root mismatch for, say, a mangled hex string.
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise ProofError(f"{what} element {i} is {len(h)} bytes, expected {HASH_SIZE}")


def root_from_inclusion_proof(leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """Recompute the root implied by an inclusion proof (RFC 9162 section 2.1.3.2).

    ``leaf`` is the leaf *hash*.  Raises ProofError when the index is outside
    the tree or the path does not have the length this index and size require.
    """
    if tree_size <= 0 or not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf)} bytes, expected {HASH_SIZE}")
    _check_hash_sizes("inclusion path", path)

    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in path:
        if sn == 0:
            raise ProofError("inclusion path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right border of an incomplete tree some levels have no
            # sibling; skip them so fn/sn stay aligned with the next hash.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion path is shorter than the tree is deep")
    return r


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """True when ``path`` proves leaf ``leaf_index`` of a ``tree_size`` tree has ``root``."""
    try:
        return root_from_inclusion_proof(leaf_index, tree_size, leaf_hash, path) == root
    except ProofError:
        return False


# Canonical encoding and keys


def canonical_json(obj: Any) -> bytes:
    """The byte string that gets hashed and signed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def network_commitment(salt: bytes, ip: str | None, user_agent: str, request_id: str) -> str:
    """Hex SHA-256(salt || canonical_json({"ip", "request_id", "user_agent"})): what a format-2
    event holds instead of where it came from. The salt has a fixed size, so the input splits one way."""
    network = {"ip": ip or None, "request_id": request_id, "user_agent": user_agent}
    return hashlib.sha256(salt + canonical_json(network)).hexdigest()


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex characters of SHA-256 over the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class InputError(Exception):
    """A receipt or key file cannot be read or parsed (exit status 2)."""


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """Load an Ed25519 public key from a PEM SubjectPublicKeyInfo file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read public key {path}: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{path} holds a {type(key).__name__}, not an Ed25519 public key")
    return key


def load_receipt(path: str | Path) -> Any:
    """Read and JSON-decode a receipt file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read receipt {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"receipt {path} is not UTF-8 text") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"receipt {path} is not valid JSON: {exc}") from exc


# Receipt verification


class Check(NamedTuple):
    """One line of the verification report."""

    name: str
    status: str  # "ok", "FAIL" or "skip"
    detail: str


@dataclass
class ReceiptResult:
    """Outcome of verify_receipt: every problem found, not just the first."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    witnesses_verified: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def _passed(self, name: str, detail: str) -> None:
        self.checks.append(Check(name, "ok", detail))

    def _failed(self, name: str, problem: str) -> None:
        self.checks.append(Check(name, "FAIL", problem))
        self.problems.append(problem)

    def _skipped(self, name: str, detail: str) -> None:
        self.checks.append(Check(name, "skip", detail))


class _Malformed(ValueError):
    pass


@dataclass
class _Witness:
    key_id: str
    signature: bytes


@dataclass
class _Parsed:
    log: str
    canonical: bytes
    position: int
    chain_hash: bytes
    prev_chain_hash: bytes
    leaf_index: int
    inclusion_tree_size: int
    path: list[bytes]
    body: dict[str, Any]
    tree_size: int
    root_hash: bytes
    key_id: str
    signature: bytes
    witnesses: list[_Witness]
    opening: dict[str, Any] | None


def _get(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise _Malformed(f"{where} is not an object")
    if key not in obj:
        raise _Malformed(f"{where}.{key} is missing")
    return obj[key]


def _get_dict(obj: Any, key: str, where: str) -> dict[str, Any]:
    value = _get(obj, key, where)
    if not isinstance(value, dict):
        raise _Malformed(f"{where}.{key} is not an object")
    return value


def _get_int(obj: Any, key: str, where: str) -> int:
    value = _get(obj, key, where)
    # bool is an int subclass; true/false in a size field is a malformed receipt.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Malformed(f"{where}.{key} is not a non-negative integer")
    return value


def _get_str(obj: Any, key: str, where: str) -> str:
    value = _get(obj, key, where)
    if not isinstance(value, str):
        raise _Malformed(f"{where}.{key} is not a string")
    return value


def _hash_from_hex(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not _HASH_RE.fullmatch(value):
        raise _Malformed(f"{where} is not 64 lowercase hex characters")
    return bytes.fromhex(value)


def _get_b64(obj: Any, key: str, where: str) -> bytes:
    value = _get_str(obj, key, where)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Malformed(f"{where}.{key} is not valid base64") from exc


def _get_key_id(obj: Any, key: str, where: str) -> str:
    value = _get_str(obj, key, where)
    if not _KEY_ID_RE.fullmatch(value):
        raise _Malformed(f"{where}.{key} is not 16 lowercase hex characters")
    return value


def _parse(receipt: Any) -> _Parsed:
    if not isinstance(receipt, dict):
        raise _Malformed("the receipt is not a JSON object")
    version = _get(receipt, "version", "receipt")
    if version != RECEIPT_VERSION or isinstance(version, bool):
        raise _Malformed(
            f"unsupported receipt version {version!r} (this verifier reads version {RECEIPT_VERSION})"
        )

    event = _get_dict(receipt, "event", "receipt")
    inclusion = _get_dict(receipt, "inclusion", "receipt")
    checkpoint = _get_dict(receipt, "checkpoint", "receipt")
    body = _get_dict(checkpoint, "body", "checkpoint")

    path = _get(inclusion, "path", "inclusion")
    if not isinstance(path, list):
        raise _Malformed("inclusion.path is not a list")

    witnesses_raw = receipt.get("witnesses", [])
    if not isinstance(witnesses_raw, list):
        raise _Malformed("receipt.witnesses is not a list")
    witnesses = [
        _Witness(
            key_id=_get_key_id(w, "key_id", f"witnesses[{i}]"),
            signature=_get_b64(w, "signature", f"witnesses[{i}]"),
        )
        for i, w in enumerate(witnesses_raw)
    ]

    opening = event.get("opening")
    if opening is not None:
        ip = _get(opening, "ip", "event.opening")
        if not (ip is None or isinstance(ip, str)):
            raise _Malformed("event.opening.ip is neither a string nor null")
        opening = {
            "salt": _get_b64(opening, "salt", "event.opening"),
            "ip": ip,
            "user_agent": _get_str(opening, "user_agent", "event.opening"),
            "request_id": _get_str(opening, "request_id", "event.opening"),
        }

    return _Parsed(
        log=_get_str(receipt, "log", "receipt"),
        canonical=_get_b64(event, "canonical", "event"),
        position=_get_int(event, "position", "event"),
        chain_hash=_hash_from_hex(_get(event, "chain_hash", "event"), "event.chain_hash"),
        prev_chain_hash=_hash_from_hex(_get(event, "prev_chain_hash", "event"), "event.prev_chain_hash"),
        leaf_index=_get_int(inclusion, "leaf_index", "inclusion"),
        inclusion_tree_size=_get_int(inclusion, "tree_size", "inclusion"),
        path=[_hash_from_hex(h, f"inclusion.path[{i}]") for i, h in enumerate(path)],
        body=body,
        tree_size=_get_int(body, "tree_size", "checkpoint.body"),
        root_hash=_hash_from_hex(_get(body, "root_hash", "checkpoint.body"), "checkpoint.body.root_hash"),
        key_id=_get_key_id(body, "key_id", "checkpoint.body"),
        signature=_get_b64(checkpoint, "signature", "checkpoint"),
        witnesses=witnesses,
        opening=opening,
    )


def _signature_valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _committed_network(canonical: bytes) -> str | None:
    try:
        context = json.loads(canonical)["context"]
    except (ValueError, KeyError, TypeError):
        return None
    return context.get("commitment") if isinstance(context, dict) else None


def _check_network(result: ReceiptResult, r: _Parsed) -> None:
    """A format-2 event hides where it came from; an opening, when given, must match what it hides."""
    committed = _committed_network(r.canonical)
    if r.opening is None:
        if committed is not None:
            result._skipped(
                "network", "withheld: the event commits to its network details without showing them"
            )
        return
    opened = network_commitment(
        r.opening["salt"], r.opening["ip"], r.opening["user_agent"], r.opening["request_id"]
    )
    if committed is None:
        result._failed("network", "the receipt opens network details but the event commits to none")
    elif opened == committed:
        result._passed("network", f"recorded from {r.opening['ip'] or 'no IP address'}, as the event commits")
    else:
        result._failed("network", "the network details given do not match the event's commitment")


def verify_receipt(
    receipt: dict[str, Any],
    public_keys: Sequence[Ed25519PublicKey],
    witness_keys: Sequence[Ed25519PublicKey] = (),
) -> ReceiptResult:
    """Check every claim a receipt makes against the given log and witness keys."""
    result = ReceiptResult(ok=False)
    try:
        r = _parse(receipt)
    except _Malformed as exc:
        result._failed("format", f"receipt is malformed: {exc}")
        return result
    result._passed("format", f"receipt version {RECEIPT_VERSION}")

    body_log = r.body.get("log")
    if body_log == r.log:
        result._passed("log", f"receipt and checkpoint are both for log {r.log!r}")
    else:
        result._failed("log", f"receipt is for log {r.log!r} but the checkpoint is for log {body_log!r}")

    if r.position == r.leaf_index:
        result._passed("position", f"event position {r.position} is the proven leaf index")
    else:
        result._failed(
            "position",
            f"event position {r.position} does not match inclusion leaf index {r.leaf_index}",
        )

    if r.inclusion_tree_size == r.tree_size:
        result._passed("tree size", f"proof is for the checkpoint's tree of {r.tree_size} entries")
    else:
        result._failed(
            "tree size",
            f"inclusion proof is for tree size {r.inclusion_tree_size} "
            f"but the checkpoint covers {r.tree_size} entries",
        )

    # The proof is always evaluated against the *signed* size and root, so a
    # receipt cannot talk its way into a different tree.
    event_leaf = leaf_hash(r.canonical)
    try:
        computed_root = root_from_inclusion_proof(r.leaf_index, r.tree_size, event_leaf, r.path)
    except ProofError as exc:
        result._failed("inclusion", f"inclusion proof is malformed: {exc}")
    else:
        if computed_root == r.root_hash:
            result._passed(
                "inclusion",
                f"leaf hash {event_leaf.hex()[:16]}... at index {r.leaf_index} of {r.tree_size} "
                f"leads to root {r.root_hash.hex()[:16]}...",
            )
        else:
            result._failed(
                "inclusion",
                f"inclusion proof for leaf {r.leaf_index} (leaf hash {event_leaf.hex()[:16]}...) "
                f"does not lead to the checkpoint root hash "
                f"(computed {computed_root.hex()[:16]}..., checkpoint has {r.root_hash.hex()[:16]}...)",
            )

    computed_chain = hashlib.sha256(r.prev_chain_hash + r.canonical).digest()
    if r.position == 0 and r.prev_chain_hash != ZERO_HASH:
        result._failed("chain hash", "event at position 0 must have a prev_chain_hash of 64 zeros")
    elif computed_chain == r.chain_hash:
        result._passed("chain hash", "SHA-256(prev_chain_hash || canonical event) matches")
    else:
        result._failed(
            "chain hash",
            f"event chain hash does not match SHA-256(prev_chain_hash || canonical event) "
            f"(computed {computed_chain.hex()[:16]}..., receipt has {r.chain_hash.hex()[:16]}...)",
        )

    _check_network(result, r)

    signed_bytes = canonical_json(r.body)
    log_keys = {key_id(k): k for k in public_keys}
    log_key = log_keys.get(r.key_id)
    if log_key is None:
        known = ", ".join(sorted(log_keys)) or "none"
        result._failed(
            "signature",
            f"checkpoint is signed with key {r.key_id}, which is not among the given public keys ({known})",
        )
    elif _signature_valid(log_key, r.signature, signed_bytes):
        result._passed("signature", f"checkpoint signed by key {r.key_id}")
    else:
        result._failed("signature", f"checkpoint signature does not verify with key {r.key_id}")

    witness_by_id = {key_id(k): k for k in witness_keys}
    for w in r.witnesses:
        name = f"witness {w.key_id}"
        wkey = witness_by_id.get(w.key_id)
        if wkey is None:
            # Witnesses are optional extra assurance; one the auditor has no
            # key for neither helps nor hurts.
            result._skipped(name, "not checked (no witness key with this id was given)")
        elif _signature_valid(wkey, w.signature, signed_bytes):
            result._passed(name, "co-signature verified")
            if w.key_id not in result.witnesses_verified:
                result.witnesses_verified.append(w.key_id)
        else:
            result._failed(name, f"witness signature by key {w.key_id} does not verify")

    result.ok = not result.problems
    return result


# Command line


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m audit.verify_receipt",
        description="Verify an audit-log receipt offline.",
    )
    parser.add_argument("receipt", type=Path, help="receipt JSON file")
    parser.add_argument(
        "--public-key",
        action="append",
        required=True,
        type=Path,
        metavar="PEM",
        help="log signing public key (PEM); repeat to accept rotated keys",
    )
    parser.add_argument(
        "--witness-key",
        action="append",
        default=[],
        type=Path,
        metavar="PEM",
        help="witness public key (PEM); repeatable",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns 0 (valid), 1 (invalid) or 2 (unusable input)."""
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as exc:
        # argparse exits on --help and usage errors; importers calling main()
        # should get a status back instead.
        return exc.code if isinstance(exc.code, int) else 2

    try:
        receipt = load_receipt(args.receipt)
        public_keys = [load_public_key(p) for p in args.public_key]
        witness_keys = [load_public_key(p) for p in args.witness_key]
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    result = verify_receipt(receipt, public_keys, witness_keys)
    for check in result.checks:
        print(f"{check.status:<4} {check.name}: {check.detail}")
    if result.ok:
        print("receipt OK")
        return 0
    print("receipt INVALID: " + "; ".join(result.problems))
    return 1


if __name__ == "__main__":
    sys.exit(main())
