"""Stored risk reasons rendered in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext


def reason_text(reason: dict) -> str:
    try:
        return gettext(reason["template"]) % reason.get("params", {})
    except (KeyError, TypeError, ValueError):
        return str(reason.get("message", ""))
