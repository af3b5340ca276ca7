"""A flag's evidence as officers read it: each key by its name in words (``officers.labels.EVIDENCE``),
its value formatted in the reader's language, ids linked to the console's page for them. The JSON
as recorded stays beside it on the page, since it is evidence (``officers/evidence.html``).

Evidence is whatever a detector or a rule recorded, so any JSON shape is shown rather than refused:
nested objects as nested lists of terms, long lists cut with a count of the rest, nesting deeper
than ``DEPTH`` as its JSON."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext

from accounts.time_zones import offset_text
from brokers.models import BrokerLicence
from officers.labels import EVIDENCE, choice_label, evidence_label

LIST_SHOWN = 10
DEPTH = 3
# Keys recorded as ISO 8601 times. ``local_time`` keeps the enterprise's own offset: it says when
# the sign-in was by the enterprise's clock, which is the point of an off-hours flag.
DATE_TIMES = {"suspended_at", "next_update"}
LOCAL_TIMES = {"local_time"}
CHOICES = {"licence_status": BrokerLicence.Status}
# Keys whose values are ids of records the console has a page for.
PAGES = {
    "signin": "officers:accounts_signinevent_change",
    "reporter": "officers:accounts_user_change",
    "used_by": "officers:accounts_organization_change",
    "organizations": "officers:accounts_organization_change",
    "other_organizations": "officers:accounts_organization_change",
    "report": "officers:signatures_abusereport_change",
}


@dataclass
class Value:
    """One value: ``text`` (with a link ``href``), a list (``items``, ``more`` left out, shown
    ``inline`` when they are all plain) or an object (``entries``)."""

    text: str = ""
    href: str = ""
    items: list[Value] | None = None
    more: int = 0
    inline: bool = False
    entries: list[Entry] | None = None


@dataclass
class Entry:
    """A key and its value; a key without words (``known`` false) is shown as its code."""

    key: str
    label: str
    value: Value = field(default_factory=Value)
    known: bool = True


def evidence_entries(evidence) -> list[Entry]:
    """The entries of a flag's evidence, in the order recorded. Evidence that is not an object (a
    list or a bare value, which no code writes today) is one entry under "value"."""
    if isinstance(evidence, dict):
        return _entries(evidence, depth=0)
    if evidence in (None, "", [], {}):
        return []
    return [Entry(key="", label=gettext("value"), value=_value("", evidence, depth=0))]


def evidence_json(evidence) -> str:
    """The evidence as recorded, indented, keys in their recorded order."""
    return json.dumps(evidence, indent=2, ensure_ascii=False, default=str)


def _entries(mapping: dict, *, depth: int) -> list[Entry]:
    return [
        Entry(
            key=str(key),
            label=evidence_label(str(key)),
            value=_value(str(key), value, depth=depth),
            known=str(key) in EVIDENCE,
        )
        for key, value in mapping.items()
    ]


def _value(key: str, value, *, depth: int) -> Value:
    if isinstance(value, dict):
        if depth >= DEPTH:
            return Value(text=json.dumps(value, ensure_ascii=False, default=str))
        return Value(entries=_entries(value, depth=depth + 1))
    if isinstance(value, list | tuple):
        if depth >= DEPTH:
            return Value(text=json.dumps(value, ensure_ascii=False, default=str))
        items = [_value(key, item, depth=depth + 1) for item in value[:LIST_SHOWN]]
        inline = all(item.items is None and item.entries is None for item in items)
        return Value(items=items, more=max(len(value) - LIST_SHOWN, 0), inline=inline)
    return Value(text=_scalar(key, value), href=_page(key, value))


def _scalar(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int | float):
        return formats.number_format(value, force_grouping=True)
    text = str(value)
    if key in CHOICES:
        return choice_label(CHOICES[key], text)
    if key in DATE_TIMES | LOCAL_TIMES:
        return _date_time(text, local=key in LOCAL_TIMES)
    return text


def _date_time(text: str, *, local: bool) -> str:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if timezone.is_aware(moment):
        shown = formats.date_format(moment if local else timezone.localtime(moment), "d/m/Y H:i")
        return f"{shown} (UTC{offset_text(moment)})" if local else shown
    return formats.date_format(moment, "d/m/Y H:i")


def _page(key: str, value) -> str:
    if key not in PAGES or isinstance(value, bool) or value in (None, ""):
        return ""
    try:
        return reverse(PAGES[key], args=[value])
    except NoReverseMatch:
        return ""
