"""The compliance classification rule (pure): signals in, a level on Vietnam's five-level scale and
its reasons out. The nightly service gathers the signals; this decides."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts.models import Organization

Level = Organization.ComplianceLevel

# Points per occurrence within the look-back window. A confirmed misuse case or a
# non-cooperation mark weighs most: customs found it, rather than suspected it.
WEIGHTS = {
    "confirmed_misuse": 4,
    "non_cooperation": 4,
    "abuse_reports": 2,
    "certificate_lending": 2,
    "missed_reports": 2,
    "late_reports": 1,
    "account_sharing": 1,
}
REASON_TEXT = {
    "confirmed_misuse": _("confirmed misuse cases"),
    "non_cooperation": _("marked as not cooperating with customs"),
    "abuse_reports": _("misuse reports by other enterprises against its staff"),
    "certificate_lending": _("its certificate used by another organisation (certificate lending)"),
    "missed_reports": _("broker operations reports missing"),
    "late_reports": _("broker operations reports late"),
    "account_sharing": _("accounts used from another party's device (account sharing)"),
    "clean_record": _("no adverse signal in the period"),
    "long_record": _("verified for over a year without an adverse signal"),
}
# Score thresholds: at most this many points for the level.
HIGH_MAX, MODERATE_MAX, POOR_MAX = 0, 3, 7
PRIORITISED_AFTER = datetime.timedelta(days=365)


@dataclass(frozen=True)
class Signals:
    confirmed_misuse: int = 0
    non_cooperation: int = 0
    abuse_reports: int = 0
    certificate_lending: int = 0
    missed_reports: int = 0
    late_reports: int = 0
    account_sharing: int = 0


def classify(
    signals: Signals, *, verified_at: datetime.datetime | None, now: datetime.datetime
) -> tuple[str, list[dict]]:
    """The level and the reasons (``[{"code", "count", "points"}]``, heaviest first)."""
    reasons = [
        {"code": code, "count": count, "points": count * weight}
        for code, weight in WEIGHTS.items()
        if (count := getattr(signals, code))
    ]
    reasons.sort(key=lambda reason: -reason["points"])
    score = sum(reason["points"] for reason in reasons)
    if score == 0:
        if verified_at is not None and now - verified_at >= PRIORITISED_AFTER:
            return Level.PRIORITISED, [{"code": "long_record", "count": 0, "points": 0}]
        return Level.HIGH, [{"code": "clean_record", "count": 0, "points": 0}]
    if score <= MODERATE_MAX:
        return Level.MODERATE, reasons
    if score <= POOR_MAX:
        return Level.POOR, reasons
    return Level.NON_COMPLIANT, reasons


def reason_text(reason: dict) -> str:
    text = str(REASON_TEXT.get(reason.get("code"), reason.get("code", "")))
    count = reason.get("count") or 0
    return f"{text} ({count})" if count and reason.get("code") != "non_cooperation" else text
