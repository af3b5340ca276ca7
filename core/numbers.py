"""Whole numbers as people type them and clients send them: ids in forms, page numbers."""

from __future__ import annotations

# Below 2**63: an id of this many digits never overflows a bigint column.
MAX_DIGITS = 18


def whole_number(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as a whole number when it is 1 to ``max_digits`` ASCII digits, else ``None``.
    ``str.isdigit`` alone also accepts "²" and other digits that ``int`` refuses."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None
