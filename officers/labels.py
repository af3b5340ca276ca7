"""How the console names what it stores as codes without choices (a refusal's reason, a flag's
evidence) and people."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import Organization

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


# What a flag's evidence (``Flag.evidence``) holds, key by key, in words. The keys are written by
# the risk detectors (``risk/detectors.py``, with ``signin`` added by ``risk.services.evaluation``),
# the "was this you?" review (``risk.services.reviews``), misuse reports, certificate binding and
# signing (``signatures.services``), the CRL sweep (``signatures.services.trust``) and the
# operations-report sweep (``brokers.services.reports``). A key without words here is shown by its
# code (``officers.evidence``).
EVIDENCE = {
    "network": _("network"),
    "other_networks": _("other networks"),
    "device": _("device"),
    "tax_codes": _("enterprises' tax codes"),
    "broker_tax_codes": _("customs brokers' tax codes"),
    "failed_codes": _("wrong second-factor codes"),
    "failed_attempts": _("failed passwords"),
    "accounts": _("accounts tried"),
    "local_time": _("local time of the enterprise"),
    "silent_days": _("days without a sign-in"),
    "signin": _("sign-in"),
    "reporter": _("reported by"),
    "report": _("misuse report"),
    "certificates": _("certificates (SHA-256 fingerprints)"),
    "fingerprint": _("certificate (SHA-256 fingerprint)"),
    "organizations": _("enterprises the certificate is bound to"),
    "other_organizations": _("other enterprises"),
    "used_by": _("used by the enterprise"),
    "declaration": _("declaration number"),
    "trader": _("trader's tax code"),
    "issuer": _("issuer (SHA-256 fingerprint)"),
    "next_update": _("next update was due"),
    "licence": _("licence number"),
    "licence_status": _("licence status"),
    "periods": _("periods missing or late"),
    "suspended_automatically": _("suspended automatically"),
    "suspended_at": _("suspended since"),
    "demo": _("demonstration data"),
}


def evidence_label(key: str) -> str:
    """An evidence key in words; one without words by its code, so nothing recorded is hidden."""
    return str(EVIDENCE.get(key, key))


def choice_label(choices, code: str) -> str:
    """A code stored without choices (copied from a request) by the label of the choices it comes
    from; an empty or unknown one as it is."""
    return str(choices(code).label) if code in choices.values else (code or "")


def refusal_label(code: str) -> str:
    return str(REFUSALS.get(code, code))


def channel_label(code: str) -> str:
    """The customs clearance channel a compliance level suggests, in words (``Organization.Channel``)."""
    return str(Organization.Channel(code).label) if code in Organization.Channel.values else code


def person_name(user) -> str:
    """Family name first, as Vietnamese names are written; the username where no name is known."""
    if user is None:
        return ""
    name = f"{user.last_name} {user.first_name}".strip()
    return name or user.get_username()
