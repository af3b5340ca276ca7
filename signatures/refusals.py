"""What a person is told when a certificate, a revocation list or a signature is refused, by the
refusal's stable code. The checks in ``pki`` and ``cms`` word their errors for logs and carry the
certificate library's own text (``validation failed: candidates exhausted…``); no such text may
reach a trader, a broker or an officer, so pages and API answers say these sentences instead."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SENTENCES = {
    # reading and checking a certificate (signatures.pki)
    "certificate_malformed": _(
        "This file is not a certificate. Choose the certificate file (.cer, .crt, .pem or .der) your "
        "certificate authority gave you."
    ),
    "certificate_not_end_entity": _(
        "This is a certificate authority's certificate; upload the signing certificate it issued instead."
    ),
    "certificate_untrusted": _(
        "The certificate is not issued by a certificate authority that customs trusts, or its chain of "
        "issuers could not be checked."
    ),
    "certificate_expired": _("This certificate is not within its validity."),
    "certificate_not_yet_valid": _("This certificate is not valid yet."),
    "certificate_key_usage": _("This certificate may not be used to sign documents."),
    "certificate_weak_algorithm": _("This certificate's key or algorithm is too weak to sign declarations."),
    "certificate_revoked": _("This certificate is revoked and can no longer sign."),
    "certificate_suspended": _("This certificate is suspended: it cannot sign until reinstated."),
    "issuer_not_ca": _("This is not a CA certificate."),
    "crl_malformed": _("This file is not a certificate revocation list."),
    "crl_invalid": _("The revocation list is not signed by this issuer or is not in force."),
    # reading and checking a CMS signature (signatures.cms)
    "signature_malformed": _(
        "This file is not a detached CMS (PKCS#7) signature with one signer. Sign the document again."
    ),
    "signature_too_large": _("The signature file is too large."),
    "signature_invalid": _("The signature does not match the certificate that it names."),
    "signature_digest_mismatch": _(
        "The document is not the one that was signed. Sign the exact file you are uploading."
    ),
    "signature_algorithm_unsupported": _("The signature uses an algorithm that is not accepted."),
    "signature_time_outside_validity": _("The signature was made outside the certificate's validity."),
    "signature_signer_unknown": _("The signature does not carry the certificate that made it."),
    # the signing rules (signatures.services.signing), for a refused attempt shown later
    "certificate_foreign_use": _("This certificate belongs to another organisation."),
    "certificate_not_bound": _("This certificate is not bound to your organisation."),
    "signer_role_not_allowed": _("Owners and administrators manage; they do not sign."),
    "signer_not_custodian": _("You are not a custodian of this certificate."),
    "agent_not_current": _("You are not a current customs agent of this broker."),
    "organization_not_verified": _("The enterprise is not verified yet."),
    "broker_licence_inactive": _("Only a broker with an active licence signs for a trader."),
    "no_active_authorization": _("No active mandate from this trader."),
    "authorization_scope": _("The mandate does not cover this kind of declaration."),
    "duplicate_declaration": _("This trader already has a declaration with this number."),
    "document_too_large": _("The document is too large."),
    "invalid_tax_code": _("This is not a valid tax code."),
    "trader_not_found": _("No enterprise with this tax code is registered."),
    "invalid_input": _("The declaration's details are incomplete or invalid."),
}

FALLBACK = _("The signature or certificate was refused.")


def refusal_sentence(code: str) -> str:
    """The sentence, in the active language, for the refusal ``code``."""
    return str(SENTENCES.get(code, FALLBACK))
