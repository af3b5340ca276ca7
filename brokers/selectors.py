"""Reads for the broker directory, mandates and operations reports, scoped to the reader."""

from __future__ import annotations

import datetime

from django.db.models import Count, Max, Q, QuerySet

from accounts.models import Organization, User
from brokers.models import Authorization, BrokerLicence, OperationReport


def broker_directory(*, query: str = "", province: str = "", status: str = "") -> QuerySet[BrokerLicence]:
    """The public register of brokerage licences: only what is public (no staff, no ID numbers).

    Brokers are read through the partial index organization_broker_name (name, where the kind is
    broker), in the directory's order; the search words then filter those few thousand rows."""
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


def manager_list(*, organization: Organization) -> list[User]:
    """The organisation's active owners and administrators: who is told of its licence, mandates and
    reports."""
    return list(User.objects.filter(organization=organization, role__in=User.MANAGER_ROLES, is_active=True))


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


def broker_licence_of(user: User) -> BrokerLicence | None:
    """The licence of the user's organisation, whatever its status; ``None`` for anyone else."""
    if user.organization_id is None:
        return None
    return BrokerLicence.objects.filter(organization_id=user.organization_id).first()


def operation_reports_readable_by(viewer: User) -> bool:
    """Officers read every broker's reports, a broker's members their own; nobody else any."""
    if viewer.is_officer:
        return True
    organization = viewer.organization
    return organization is not None and organization.is_broker


def operation_report_list(*, viewer: User) -> QuerySet[OperationReport]:
    """Every report for an officer, the viewer's own broker's for its members, none otherwise."""
    reports = OperationReport.objects.select_related("broker", "submitted_by")
    if viewer.is_officer:
        return reports
    if not operation_reports_readable_by(viewer):
        return reports.none()
    return reports.filter(broker_id=viewer.organization_id)


def operation_report_failed_streak(*, broker: Organization, upto: datetime.date) -> int:
    """How many missing or late reports in a row end with the period starting ``upto``: the rows
    after the last one filed on time. Rows are consecutive periods (the sweep fills every gap), so
    two indexed queries answer it whatever the history's length."""
    reports = OperationReport.objects.filter(broker=broker, period_start__lte=upto)
    last_on_time = reports.filter(status=OperationReport.Status.SUBMITTED).aggregate(
        last=Max("period_start")
    )["last"]
    if last_on_time is not None:
        reports = reports.filter(period_start__gt=last_on_time)
    return reports.count()


def brokers_with_failed_reports(*, limit: int = 20) -> list[dict]:
    """Brokers with missing or late operations reports (officer dashboard): counts, the newest
    missing period, the current failed streak and the licence's status; most missing first."""
    rows = list(
        OperationReport.objects.filter(status__in=OperationReport.FAILED_STATUSES)
        .values(
            "broker_id",
            "broker__name",
            "broker__tax_code",
            "broker__licence__number",
            "broker__licence__status",
        )
        .annotate(
            missing=Count("id", filter=Q(status=OperationReport.Status.MISSING)),
            late=Count("id", filter=Q(status=OperationReport.Status.LATE)),
            last_missing=Max("period_start", filter=Q(status=OperationReport.Status.MISSING)),
        )
        .order_by("-missing", "-late", "broker__name")[:limit]
    )
    return rows


def mandate_codes_of(trader) -> list:
    """The enterprise's latest authorisation codes, for its managers' page (never the codes)."""
    from brokers.models import MandateCode

    return list(MandateCode.objects.filter(trader=trader).select_related("used_by_broker", "issued_by")[:20])
