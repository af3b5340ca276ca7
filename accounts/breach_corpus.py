"""Lookup in a breached-password corpus by SHA-1, as breach-corpus services publish them.

Two layouts (``BREACHED_PASSWORDS_PATH``):

- a file of hex SHA-1 hashes, one per line, optionally ``:count``, sorted (searched by bisection,
  so a multi-gigabyte file is never read whole);
- a directory of range files named by the first five hex digits (``5BAA6`` or ``5BAA6.txt``), each
  line the remaining 35 digits, optionally ``:count``.
"""

from __future__ import annotations

import os
from pathlib import Path

_HEX = set("0123456789ABCDEF")


def _valid_sha1(sha1: str) -> str:
    sha1 = sha1.strip().upper()
    if len(sha1) != 40 or not set(sha1) <= _HEX:
        raise ValueError("not a hex SHA-1 digest")
    return sha1


def _key(line: bytes) -> str:
    return line.split(b":", 1)[0].strip().decode("ascii", "replace").upper()


def _in_sorted_file(path: Path, sha1: str) -> bool:
    with path.open("rb") as handle:
        low, high = 0, os.fstat(handle.fileno()).st_size
        # Invariant: every line starting before ``low`` sorts below sha1; bisect on byte offsets and
        # realign to the next line start.
        while low < high:
            middle = (low + high) // 2
            handle.seek(middle)
            if middle:
                handle.readline()
            line = handle.readline()
            if not line or _key(line) >= sha1:
                high = middle
            else:
                low = middle + 1
        handle.seek(low)
        if low:
            handle.readline()
        for _ in range(2):  # the line at the boundary, and the one after it
            line = handle.readline()
            if not line:
                return False
            key = _key(line)
            if key == sha1:
                return True
            if key > sha1:
                return False
    return False


def _in_range_directory(directory: Path, sha1: str) -> bool:
    prefix, suffix = sha1[:5], sha1[5:]
    for name in (prefix, f"{prefix}.txt", prefix.lower(), f"{prefix.lower()}.txt"):
        candidate = directory / name
        if candidate.is_file():
            with candidate.open("rb") as handle:
                return any(_key(line) == suffix for line in handle)
    return False


def is_breached(sha1: str, path: str | os.PathLike) -> bool:
    """True when ``sha1`` (hex) is in the corpus at ``path``. Raises ``FileNotFoundError``."""
    sha1 = _valid_sha1(sha1)
    corpus = Path(path)
    if corpus.is_dir():
        return _in_range_directory(corpus, sha1)
    if corpus.is_file():
        return _in_sorted_file(corpus, sha1)
    raise FileNotFoundError(f"no breached-password corpus at {corpus}")
