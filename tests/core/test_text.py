"""Names and identifiers refuse characters that cannot be seen or that reverse the text around
them (issue "Hardening", finding 11), and keep every Vietnamese letter."""

from __future__ import annotations

import unicodedata

import pytest
from django.core.exceptions import ValidationError

from core.text import invisible_characters, validate_visible_text

VISIBLE = [
    "Nguyễn Văn An",
    unicodedata.normalize("NFD", "Trần Thị Hồng Nhung"),  # letters and combining marks
    "Công ty TNHH Thương mại Sao Mai \u2013 Chi nhánh Hải Phòng",  # with an en dash
    "HĐ-01/2026 (phụ lục 3)",
    "305123456789",
]


@pytest.mark.parametrize("text", VISIBLE)
def test_vietnamese_names_and_numbers_are_visible(text):
    assert invisible_characters(text) == []
    validate_visible_text(text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("10556\u202elmx.", ["U+202E"]),  # right-to-left override
        ("3051\u200b23456789", ["U+200B"]),  # zero-width space
        ("An\u2066\u2069", ["U+2066", "U+2069"]),  # bidi isolates
        ("Sao\tMai\n", ["U+0009", "U+000A"]),
        ("Sao\u2028Mai", ["U+2028"]),  # line separator
        ("\ue000An", ["U+E000"]),  # private use
    ],
)
def test_invisible_and_control_characters_are_named(text, found):
    assert invisible_characters(text) == found
    with pytest.raises(ValidationError) as refused:
        validate_visible_text(text)
    assert refused.value.code == "invisible_characters"
