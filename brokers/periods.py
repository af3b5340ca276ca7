"""Reporting periods of brokers' operations reports: plain date arithmetic, no database (DESIGN §4).

A period is a calendar quarter, or a month with ``BROKER_REPORT_PERIOD=month``; its report is due
``BROKER_REPORT_GRACE_DAYS`` after its last day."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class ReportPeriod:
    """A reporting period, first and last day included."""

    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        """``2026-Q3`` for a quarter, ``2026-07`` for a month."""
        if (self.end.year, self.end.month) == (self.start.year, self.start.month):
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"


def _months_per_report_period() -> int:
    return 3 if settings.BROKER_REPORT_PERIOD == "quarter" else 1


def _month_number(day: datetime.date) -> int:
    """Months counted from January of year 0, so that period arithmetic is integer arithmetic."""
    return day.year * 12 + day.month - 1


def _month_start(number: int) -> datetime.date:
    return datetime.date(number // 12, number % 12 + 1, 1)


def _report_period_number(day: datetime.date) -> int:
    """Consecutive periods have consecutive numbers."""
    return _month_number(day) // _months_per_report_period()


def _report_period_numbered(number: int) -> ReportPeriod:
    months = _months_per_report_period()
    following = _month_start((number + 1) * months)
    return ReportPeriod(_month_start(number * months), following - datetime.timedelta(days=1))


def report_period_containing(day: datetime.date) -> ReportPeriod:
    """The quarter (or month, with ``BROKER_REPORT_PERIOD=month``) that ``day`` falls in."""
    return _report_period_numbered(_report_period_number(day))


def report_period_due_on(period: ReportPeriod) -> datetime.date:
    """The last day to file on time: ``BROKER_REPORT_GRACE_DAYS`` after the period's last day."""
    return period.end + datetime.timedelta(days=settings.BROKER_REPORT_GRACE_DAYS)


def report_periods(*, issued_on: datetime.date, ended_by: datetime.date) -> list[ReportPeriod]:
    """A licence's periods, oldest first: from the one containing ``issued_on`` to the last one
    whose final day is on or before ``ended_by``."""
    first = _report_period_number(issued_on)
    last = _report_period_number(ended_by)
    if _report_period_numbered(last).end > ended_by:
        last -= 1
    return [_report_period_numbered(number) for number in range(first, last + 1)]


def last_day_past_due(today: datetime.date) -> datetime.date:
    """The last day a period may have ended on to be past due ``today``: its due date is behind us."""
    return today - datetime.timedelta(days=settings.BROKER_REPORT_GRACE_DAYS + 1)


def months_later(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or that month's last day (31 August + 6 months: end of February)."""
    number = _month_number(day) + months
    last_day = (_month_start(number + 1) - datetime.timedelta(days=1)).day
    return _month_start(number).replace(day=min(day.day, last_day))
