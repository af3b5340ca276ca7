"""Reads for brokers, scoped to the reader."""

from __future__ import annotations

import datetime

from django.db.models import Max, QuerySet

from accounts.models import Organization, User
from brokers.models import BrokerLicence, OperationReport


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
