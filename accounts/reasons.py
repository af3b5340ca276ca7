"""A sign-in's stored risk reasons rendered in the reader's language: for every page that shows
them (the portal's sign-in history, the officers' console), and for the risk engine's findings."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

# Parameters kept in English and translated when shown: a weekday's name (Django's own catalogue
# has them), so a reason stored once reads "Chủ nhật" to one reader and "Sunday" to another.
TRANSLATED_PARAMS = frozenset({"day"})

# Templates that reasons already stored still name, though no detector words its findings so any
# more: they stay in the catalogue so those reasons keep reading in the reader's language.
STORED_TEMPLATES = (
    gettext_noop(
        "Signed in at %(time)s (%(zone)s) on a %(day)s, outside the enterprise's declared working "
        "hours (%(start)s-%(end)s)."
    ),
)


def translated_params(params: dict) -> dict:
    return {name: gettext(value) if name in TRANSLATED_PARAMS else value for name, value in params.items()}


def reason_text(reason: dict) -> str:
    try:
        return gettext(reason["template"]) % translated_params(reason.get("params", {}))
    except (KeyError, TypeError, ValueError):
        return str(reason.get("message", ""))
