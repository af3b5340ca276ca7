"""Text people and clients type into names and identifiers.

Control, format, private-use, unassigned and surrogate characters, and line or paragraph
separators, are invisible or change how text around them reads: a right-to-left override
(U+202E) makes "10556.xml" show as "lmx.65501", and a zero-width space makes two declaration
numbers that look the same differ. Names and identifiers refuse them; Vietnamese letters,
combining marks and ordinary spaces are all visible."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

_INVISIBLE = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}


def invisible_characters(value: str) -> list[str]:
    """The code points of ``value`` that cannot be seen, as ``U+202E``, sorted, once each."""
    return sorted({f"U+{ord(char):04X}" for char in value if unicodedata.category(char) in _INVISIBLE})


def validate_visible_text(value: str) -> None:
    # NUL is left to the fields' own check (Django's and DRF's), which refuse it with their code.
    found = [code for code in invisible_characters(value) if code != "U+0000"]
    if found:
        raise ValidationError(
            _("Remove the invisible or control characters (%(characters)s)."),
            code="invisible_characters",
            params={"characters": ", ".join(found)},
        )


def full_name(*, family: str, given: str) -> str:
    """A person's name as Vietnamese (and the customs registers) write it: the family name with
    any middle names first, then the given name, as "Nguyễn Văn An"."""
    return " ".join(part.strip() for part in (family, given) if part and part.strip())


def source_text(label) -> str:
    """A translatable label (a choice's, a ``gettext_lazy`` string) in the language it is written
    in. Stored where a reader's language is not known yet (a notification's parameters), it is
    translated when shown: ``gettext(source_text(label))`` is the label in the reader's language."""
    with translation.override(None):
        return str(label)
