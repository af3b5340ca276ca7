"""The words for each kind of flag. A flag's kind is a plain string, not a choice: detectors, rules
and reports in the apps above each raise their own, and a new one must not need a migration. Its
name for people lives here, beside the model, so every page (console or portal) says the same."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FLAG_KINDS = {
    "new_device": _("Sign-in from a new device"),
    "new_network": _("Sign-in from a new network"),
    "foreign_party_device": _("Device or network used by another enterprise"),
    "broker_network": _("Trader account on a broker's network"),
    "multi_tax_code_device": _("One device for several enterprises"),
    "concurrent_networks": _("Same account on two networks at once"),
    "off_hours": _("Sign-in outside working hours"),
    "brute_force": _("Many failed sign-ins on one account"),
    "password_spray": _("Failed sign-ins across many accounts"),
    "dormant_account": _("First sign-in after a long silence"),
    "certificate_foreign_use": _("Certificate used outside its enterprise"),
    "certificate_shared": _("Certificate presented for several enterprises"),
    "abuse_report": _("Misuse reported"),
    "misuse_reported": _("Sign-in reported as not me"),
    "missed_reports": _("Operations reports missed"),
    "licence_revocation_proposed": _("Licence revocation proposed"),
    "crl_stale": _("Revocation list out of date"),
}


def flag_kind_label(kind: str) -> str:
    """The kind in the reader's language; a kind added without words here shows its code rather
    than nothing (``tests/officers/test_queue.py`` checks every kind the source raises is named)."""
    return str(FLAG_KINDS.get(kind, kind))
