"""Brokers' operations reports: filed per period, recorded missing by the sweep once past due, and
the escalation of missed reports to officers and, with ``BROKER_AUTO_SUSPEND``, to a suspension
(DESIGN §4). The period arithmetic is in ``brokers.periods``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, User
from accounts.services.notifications import notification_send
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from audit.services.flags import flag_raise
from brokers.models import BrokerLicence, OperationReport
from brokers.periods import (
    ReportPeriod,
    last_day_past_due,
    months_later,
    report_period_containing,
    report_period_due_on,
    report_periods,
)
from brokers.selectors import manager_list, operation_report_failed_streak
from brokers.services.licences import licence_suspend
from core.errors import ApplicationError

# Only a broker holding a licence reports; a suspended one keeps reporting (it is how it recovers).
REPORTING_LICENCE_STATUSES = (BrokerLicence.Status.ACTIVE, BrokerLicence.Status.SUSPENDED)
MISSED_REPORTS_IN_A_ROW = 3
REVOCATION_AFTER_SUSPENDED_MONTHS = 6
# Far above any brokerage's volume, and below every database's integer ceiling (no 500 on overflow).
REPORT_FIGURE_MAX = 1_000_000_000


@dataclass(frozen=True)
class OpenReportPeriod:
    """A period that has ended and still awaits its report: ``due`` until its due date, ``missing``
    (whether or not the sweep has recorded it yet) after."""

    period: ReportPeriod
    due_on: datetime.date
    status: str


def operation_report_periods_open(
    *, licence: BrokerLicence, today: datetime.date | None = None
) -> list[OpenReportPeriod]:
    """The periods the licence's broker can still file, newest first (empty for a revoked licence)."""
    if licence.status not in REPORTING_LICENCE_STATUSES:
        return []
    today = today or timezone.localdate()
    filed = set(
        OperationReport.objects.filter(broker_id=licence.organization_id)
        .exclude(status=OperationReport.Status.MISSING)
        .values_list("period_start", flat=True)
    )
    open_periods = []
    for period in report_periods(issued_on=licence.issued_on, ended_by=today - datetime.timedelta(days=1)):
        if period.start in filed:
            continue
        due_on = report_period_due_on(period)
        status = "due" if today <= due_on else "missing"
        open_periods.append(OpenReportPeriod(period, due_on, status))
    return open_periods[::-1]


def _report_figures_checked(figures: dict[str, int], notes: str) -> str:
    """Every offending field at once, under the code of the first; returns the notes to keep."""
    errors: dict[str, list[str]] = {}
    codes = []
    for name, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name], code = ["invalid"], "invalid_input"
        elif value < 0:
            errors[name], code = ["negative"], "figure_negative"
        elif value > REPORT_FIGURE_MAX:
            errors[name], code = ["too_large"], "figure_too_large"
        else:
            continue
        codes.append(code)
    notes = (notes or "").strip()
    if "\x00" in notes:
        errors["notes"] = ["invalid"]
        codes.append("invalid_input")
    elif len(notes) > OperationReport.NOTES_MAX_LENGTH:
        errors["notes"] = ["too_long"]
        codes.append("notes_too_long")
    if errors:
        raise ApplicationError(
            gettext("Figures are whole numbers from 0 to %(max)s, and notes at most %(length)s characters.")
            % {"max": REPORT_FIGURE_MAX, "length": OperationReport.NOTES_MAX_LENGTH},
            code=codes[0],
            fields=errors,
        )
    return notes


def _report_period_checked(period_start: datetime.date, licence: BrokerLicence, today) -> ReportPeriod:
    # The last periods of year 9999 end in a year no date can hold; no licence reaches them anyway.
    period = report_period_containing(period_start) if period_start.year < datetime.MAXYEAR else None
    if (
        period is None
        or period.start != period_start
        or period.end < report_period_containing(licence.issued_on).start
    ):
        raise ApplicationError(
            gettext("Give the first day of a reporting period of your licence, such as %(example)s.")
            % {"example": report_period_containing(licence.issued_on).start.isoformat()},
            code="invalid_period",
            fields={"period_start": ["invalid"]},
        )
    if period.end >= today:
        raise ApplicationError(
            gettext("This period has not ended yet; its report can be filed from %(date)s.")
            % {"date": (period.end + datetime.timedelta(days=1)).isoformat()},
            code="period_not_ended",
            fields={"period_start": ["not_ended"]},
        )
    return period


def _report_exists(period: ReportPeriod) -> ApplicationError:
    return ApplicationError(
        gettext("The report for %(period)s was already filed.") % {"period": period.label},
        code="report_exists",
    )


@transaction.atomic
def operation_report_submit(
    *,
    actor: User,
    period_start: datetime.date,
    declarations_filed: int,
    clients_served: int,
    staff_joined: int = 0,
    staff_left: int = 0,
    notes: str = "",
) -> OperationReport:
    """The broker's owner or an administrator files the operations report of a period that has
    ended (its licence active or suspended). Filed after the due date it is accepted as ``late``,
    filling in the ``missing`` row if the sweep already made one; earlier periods past due are
    first recorded missing, so a late report completes a streak as the sweep would. Records
    ``report.submitted`` (and whatever the escalation of a streak records).

    Errors, each changing nothing: ``not_allowed`` (403), ``figure_negative``,
    ``figure_too_large``, ``notes_too_long``, ``invalid_input``, ``broker_licence_inactive``,
    ``invalid_period`` (not the first day of a period of the licence), ``period_not_ended``
    (a current or future period), ``report_exists``.
    """
    broker = actor.organization
    if broker is None or not broker.is_broker or not actor.is_manager:
        raise ApplicationError(
            gettext("Only a broker's owner or an administrator files operations reports."),
            code="not_allowed",
            status_code=403,
        )
    figures = {
        "declarations_filed": declarations_filed,
        "clients_served": clients_served,
        "staff_joined": staff_joined,
        "staff_left": staff_left,
    }
    notes = _report_figures_checked(figures, notes)
    # The licence row lock serialises this broker's submissions with each other and with the sweep.
    licence = (
        BrokerLicence.objects.select_for_update()
        .filter(organization=broker, status__in=REPORTING_LICENCE_STATUSES)
        .first()
    )
    if licence is None:
        raise ApplicationError(
            gettext("Only a broker with a licence (active or suspended) files operations reports."),
            code="broker_licence_inactive",
        )
    now = timezone.now()
    today = timezone.localdate(now)
    period = _report_period_checked(period_start, licence, today)
    report = OperationReport.objects.filter(broker=broker, period_start=period.start).first()
    if report is not None and report.status != OperationReport.Status.MISSING:
        raise _report_exists(period)
    newly_late = False
    if report is None:
        due_on = report_period_due_on(period)
        newly_late = today > due_on
        if newly_late:
            _operation_reports_mark_missing(
                licence, ended_by=min(last_day_past_due(today), period.start - datetime.timedelta(days=1))
            )
        report = OperationReport(
            broker=broker, period_start=period.start, period_end=period.end, due_on=due_on
        )
    report.status = OperationReport.Status.LATE if today > report.due_on else OperationReport.Status.SUBMITTED
    report.submitted_by = actor
    report.submitted_at = now
    report.notes = notes
    for name, value in figures.items():
        setattr(report, name, value)
    report.full_clean()
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:  # a concurrent submission won the race the lock cannot prevent on SQLite
        raise _report_exists(period) from None
    audit_event_record(
        action=Action.REPORT_SUBMITTED,
        actor=actor,
        organization=broker,
        target=report,
        data={
            "period": period.label,
            "period_start": period.start.isoformat(),
            "status": report.status,
            "due_on": report.due_on.isoformat(),
            **figures,
        },
    )
    if newly_late:
        _missed_reports_escalate(licence, report)
    return report


def _operation_reports_mark_missing(licence: BrokerLicence, *, ended_by: datetime.date) -> int:
    """Record as missing each of the licence's periods ended by ``ended_by`` that has no report, oldest
    first. The caller holds the licence's row lock."""
    broker = licence.organization
    recorded = list(OperationReport.objects.filter(broker=broker).values_list("period_start", "period_end"))
    now = timezone.now()
    marked = 0
    for period in report_periods(issued_on=licence.issued_on, ended_by=ended_by):
        # Overlap rather than equality: rows cut under another BROKER_REPORT_PERIOD still count.
        if any(start <= period.end and period.start <= end for start, end in recorded):
            continue
        report = OperationReport.objects.create(
            broker=broker,
            period_start=period.start,
            period_end=period.end,
            due_on=report_period_due_on(period),
            status=OperationReport.Status.MISSING,
            missed_at=now,
        )
        audit_event_record(
            action=Action.REPORT_MISSED,
            actor=None,
            organization=broker,
            target=report,
            data={"period": period.label, "period_start": period.start.isoformat(),
                  "due_on": report.due_on.isoformat()},
        )  # fmt: skip
        for person in manager_list(organization=broker):
            notification_send(
                user=person, kind=Notification.Kind.REPORT_DUE, period=period.label,
                date=report.due_on.isoformat(),
            )  # fmt: skip
        marked += 1
        _missed_reports_escalate(licence, report)
    return marked


def _missed_reports_escalate(licence: BrokerLicence, report: OperationReport) -> None:
    """Every third missing or late report in a row (3, 6, ...) raises ``missed_reports`` for officers
    and, with ``BROKER_AUTO_SUSPEND``, suspends an active licence. Called once per new late or
    missing row, so a streak is escalated once however often the sweep runs."""
    streak = operation_report_failed_streak(broker=licence.organization, upto=report.period_start)
    if streak == 0 or streak % MISSED_REPORTS_IN_A_ROW:
        return
    # An earlier streak in the same sweep may have suspended it meanwhile.
    licence.refresh_from_db(fields=["status"])
    suspend = settings.BROKER_AUTO_SUSPEND and licence.status == BrokerLicence.Status.ACTIVE
    periods = list(
        OperationReport.objects.filter(broker=licence.organization, period_start__lte=report.period_start)
        .order_by("-period_start")
        .values_list("period_start", "period_end")[:streak]
    )
    labels = [ReportPeriod(start, end).label for start, end in reversed(periods)]
    if suspend:
        outcome = "The licence was suspended automatically."
    elif licence.status == BrokerLicence.Status.ACTIVE:
        outcome = "Suspension of the licence is proposed."
    else:
        outcome = "The licence is already suspended."
    explanation = (
        f"{streak} operations reports in a row were missing or late ({', '.join(labels)}). {outcome}"
    )
    flag_raise(
        kind="missed_reports",
        severity=Flag.Severity.HIGH,
        organization=licence.organization,
        explanation=explanation,
        evidence={
            "licence": licence.number,
            "periods": labels,
            "licence_status": licence.status,
            "suspended_automatically": suspend,
        },
    )
    if suspend:
        licence_suspend(licence=licence, actor=None, reason=explanation)


def _licence_revocation_propose(licence: BrokerLicence) -> bool:
    """For a licence suspended six months: unless a report was filed since, revocation is proposed
    to officers, once per suspension."""
    broker = licence.organization
    if OperationReport.objects.filter(broker=broker, submitted_at__gte=licence.suspended_at).exists():
        return False
    if Flag.objects.filter(
        kind="licence_revocation_proposed", organization=broker, first_seen_at__gte=licence.suspended_at
    ).exists():
        return False
    flag_raise(
        kind="licence_revocation_proposed",
        severity=Flag.Severity.HIGH,
        organization=broker,
        explanation=(
            f"Licence {licence.number} has been suspended since "
            f"{timezone.localdate(licence.suspended_at):%Y-%m-%d} and no operations report was filed "
            "since. Revocation is proposed."
        ),
        evidence={"licence": licence.number, "suspended_at": licence.suspended_at.isoformat()},
    )
    return True


def operation_reports_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Beat: each period past its due date without a report becomes ``missing`` (``report.missed``;
    the broker's managers get ``report_due``), every third missing or late report in a row raises
    ``missed_reports`` (and suspends the licence with ``BROKER_AUTO_SUSPEND``), and a licence
    suspended six months without a report since raises ``licence_revocation_proposed``.
    Idempotent: a period is recorded once (the unique row, under the licence's lock), so running it
    again changes nothing. One transaction per broker. Raises nothing of its own."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ended_by = last_day_past_due(today)
    counts = {"missing": 0, "revocations_proposed": 0}
    # Only brokers with fewer rows than past-due periods have anything to do: one query for all.
    licences = (
        BrokerLicence.objects.filter(status__in=REPORTING_LICENCE_STATUSES)
        .annotate(
            recorded=Count(
                "organization__operation_reports",
                filter=Q(organization__operation_reports__period_end__lte=ended_by),
            )
        )
        .values_list("pk", "issued_on", "recorded")
    )
    for pk, issued_on, recorded in list(licences):
        if recorded >= len(report_periods(issued_on=issued_on, ended_by=ended_by)):
            continue
        with transaction.atomic():
            licence = BrokerLicence.objects.select_for_update().select_related("organization").get(pk=pk)
            if licence.status in REPORTING_LICENCE_STATUSES:
                counts["missing"] += _operation_reports_mark_missing(licence, ended_by=ended_by)
    suspended = BrokerLicence.objects.filter(
        status=BrokerLicence.Status.SUSPENDED, suspended_at__isnull=False
    )
    for pk, suspended_at in list(suspended.values_list("pk", "suspended_at")):
        if today < months_later(timezone.localdate(suspended_at), REVOCATION_AFTER_SUSPENDED_MONTHS):
            continue
        with transaction.atomic():
            licence = BrokerLicence.objects.select_for_update().select_related("organization").get(pk=pk)
            if licence.status == BrokerLicence.Status.SUSPENDED and _licence_revocation_propose(licence):
                counts["revocations_proposed"] += 1
    return counts
