"""Reads for trusted issuers, revocation lists and certificates, scoped to the reader."""

from __future__ import annotations

from cryptography import x509
from django.db.models import Q, QuerySet

from accounts.models import User
from signatures.models import Certificate, Declaration, RevocationList, SignatureRecord, TrustedIssuer


def trusted_issuer_certificates() -> list[x509.Certificate]:
    return [
        x509.load_der_x509_certificate(bytes(der))
        for der in TrustedIssuer.objects.filter(status=TrustedIssuer.Status.ACTIVE).values_list(
            "der", flat=True
        )
    ]


def current_crls() -> dict[int, tuple[TrustedIssuer, RevocationList | None]]:
    """Each active issuer with its newest revocation list (or ``None`` if none is loaded)."""
    result = {}
    for issuer in TrustedIssuer.objects.filter(status=TrustedIssuer.Status.ACTIVE):
        newest = RevocationList.objects.filter(issuer=issuer).order_by("-this_update", "-pk").first()
        result[issuer.pk] = (issuer, newest)
    return result


def certificate_list(*, viewer: User) -> QuerySet[Certificate]:
    """The certificates of the viewer's own enterprise; nothing for anyone else."""
    if viewer.organization_id is None:
        return Certificate.objects.none()
    return (
        Certificate.objects.filter(organization_id=viewer.organization_id)
        .select_related("issuer")
        .prefetch_related("custodians")
    )


def certificate_for_viewer(*, viewer: User, pk: int) -> Certificate | None:
    return certificate_list(viewer=viewer).filter(pk=pk).first()


def declaration_list(*, viewer: User) -> QuerySet[Declaration]:
    """Declarations filed in the viewer's enterprise's name, or by it for clients (a broker sees
    only its own submissions, also after the trader moved to another broker). Officers: all."""
    declarations = Declaration.objects.select_related(
        "trader", "signature__signer", "signature__signer_organization", "signature__certificate",
        "signature__authorization",
    )  # fmt: skip
    if viewer.is_officer:
        return declarations
    if viewer.organization_id is None:
        return declarations.none()
    return declarations.filter(
        Q(trader_id=viewer.organization_id) | Q(signature__signer_organization_id=viewer.organization_id)
    )


def signature_records_for(*, viewer: User) -> QuerySet[SignatureRecord]:
    """Every attempt, accepted or refused, made in the viewer's enterprise's name or by it."""
    if viewer.organization_id is None:
        return SignatureRecord.objects.none()
    return SignatureRecord.objects.select_related(
        "signer", "signer_organization", "certificate", "authorization"
    ).filter(Q(trader_id=viewer.organization_id) | Q(signer_organization_id=viewer.organization_id))
