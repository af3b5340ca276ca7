"""How the console names the codes it stores: a flag's kind is a plain string (detectors, rules and
reports each add their own), so its words live here rather than as model choices."""

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

# Why a signature was refused (``SignatureRecord.reason_code``, DESIGN §5 rules 1 to 3), in words.
REFUSALS = {
    "invalid_input": _("the declaration's data were incomplete"),
    "invalid_tax_code": _("the trader's tax code is not valid"),
    "trader_not_found": _("no such trader"),
    "document_too_large": _("the document is too large"),
    "signature_too_large": _("the signature is too large"),
    "signature_malformed": _("the signature is not a CMS signature"),
    "signature_invalid": _("the signature does not verify"),
    "signature_digest_mismatch": _("the document is not the one that was signed"),
    "signature_algorithm_unsupported": _("the signature's algorithm is not accepted"),
    "signature_time_outside_validity": _("signed outside the certificate's validity"),
    "certificate_foreign_use": _("a certificate of another enterprise"),
    "certificate_not_bound": _("the certificate is not bound to the signer's enterprise"),
    "certificate_suspended": _("the certificate is suspended"),
    "certificate_revoked": _("the certificate is revoked"),
    "certificate_expired": _("the certificate has expired"),
    "certificate_untrusted": _("the certificate's issuer is not trusted"),
    "signer_role_not_allowed": _("an owner or administrator account may not sign"),
    "signer_not_custodian": _("the signer is not a custodian of the certificate"),
    "organization_not_verified": _("the enterprise is not verified"),
    "broker_licence_inactive": _("the broker's licence is not active"),
    "agent_not_current": _("the signer is not a current agent of the broker"),
    "no_active_authorization": _("no active mandate from the trader"),
    "authorization_scope": _("the mandate does not cover this kind of declaration"),
    "duplicate_declaration": _("the declaration was already filed"),
}


def refusal_label(code: str) -> str:
    return str(REFUSALS.get(code, code))


def flag_kind_label(kind: str) -> str:
    """The kind in the reader's language; a kind added without words here shows its code rather
    than nothing (``tests/officers/test_queue.py`` lists the kinds the source raises)."""
    return str(FLAG_KINDS.get(kind, kind))


def person_name(user) -> str:
    """Family name first, as Vietnamese names are written; the username where no name is known."""
    if user is None:
        return ""
    name = f"{user.last_name} {user.first_name}".strip()
    return name or user.get_username()
