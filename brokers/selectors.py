"""Reads for the broker directory and mandates, scoped to the reader."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Organization, User
from brokers.models import Authorization, BrokerLicence


def broker_directory(*, query: str = "", province: str = "", status: str = "") -> QuerySet[BrokerLicence]:
    """The public register of brokerage licences: only what is public (no staff, no ID numbers)."""
    licences = BrokerLicence.objects.select_related("organization").filter(
        organization__kind=Organization.Kind.BROKER
    )
    query = query.strip()
    if query:
        licences = licences.filter(
            Q(organization__name__icontains=query)
            | Q(organization__tax_code__startswith=query)
            | Q(number__icontains=query)
        )
    if province.strip():
        licences = licences.filter(organization__province__icontains=province.strip())
    if status in BrokerLicence.Status.values:
        licences = licences.filter(status=status)
    return licences.order_by("organization__name", "pk")


def mandate_list(*, viewer: User) -> QuerySet[Authorization]:
    """Mandates the viewer's organisation gave or received (officers: all)."""
    mandates = Authorization.objects.select_related("trader", "broker", "broker__licence")
    if viewer.is_officer:
        return mandates
    if viewer.organization_id is None:
        return mandates.none()
    return mandates.filter(Q(trader_id=viewer.organization_id) | Q(broker_id=viewer.organization_id))


def mandate_for_viewer(*, viewer: User, pk: int) -> Authorization | None:
    return mandate_list(viewer=viewer).filter(pk=pk).first()


def broker_by_tax_code(tax_code: str) -> Organization | None:
    return Organization.objects.filter(tax_code=tax_code.strip(), kind=Organization.Kind.BROKER).first()
