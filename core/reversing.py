"""``reverse`` once for a list: a page of rows links each row to its own object, and resolving
the same URL name a hundred times (two links on each of fifty rows) costs a page several
milliseconds of the resolver's work (``bench/scale.py``'s who-signed search)."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.urls import reverse

# What a primary key or a UUID prints as: put into the URL unchanged, never escaped.
_PRINTS_SAFELY = re.compile(r"[0-9A-Za-z-]+")


def reverse_each(viewname: str, *, sample: object) -> Callable[[object], str]:
    """``reverse_each("officers:receipt", sample=uuid.UUID(int=0))(event_id)`` equals
    ``reverse("officers:receipt", args=[event_id])``. ``sample`` is any value the URL's converter
    accepts; the values given later must be of the same kind (integers, UUIDs)."""
    url = reverse(viewname, args=[sample])
    marker = str(sample)
    if not _PRINTS_SAFELY.fullmatch(marker) or url.count(marker) != 1:
        raise ValueError(f"{viewname}: {marker!r} is not a sample this URL shows once, as printed")
    head, tail = url.split(marker)

    def url_of(value: object) -> str:
        text = str(value)
        if not _PRINTS_SAFELY.fullmatch(text):
            raise ValueError(f"{text!r} would need escaping in a URL")
        return f"{head}{text}{tail}"

    return url_of
