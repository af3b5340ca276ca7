"""Reporting periods (``brokers.periods``): plain date arithmetic, checked against fixed calendar
facts and, for any day, against the calendar module's own month lengths."""

from __future__ import annotations

import calendar
import datetime
import itertools

import hypothesis
import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from brokers.periods import (
    ReportPeriod,
    last_day_past_due,
    months_later,
    report_period_containing,
    report_period_due_on,
    report_periods,
)

MODES = ["quarter", "month"]
days = st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2100, 12, 31))


def d(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


def expected_period(day: datetime.date, mode: str) -> tuple[datetime.date, datetime.date]:
    """The period by the calendar: quarters begin in January, April, July and October."""
    first_month = 3 * ((day.month - 1) // 3) + 1 if mode == "quarter" else day.month
    last_month = first_month + 2 if mode == "quarter" else first_month
    last_day = calendar.monthrange(day.year, last_month)[1]
    return datetime.date(day.year, first_month, 1), datetime.date(day.year, last_month, last_day)


@pytest.mark.parametrize(
    ("day", "start", "end", "label"),
    [
        ("2026-01-01", "2026-01-01", "2026-03-31", "2026-Q1"),
        ("2026-02-10", "2026-01-01", "2026-03-31", "2026-Q1"),
        ("2026-06-30", "2026-04-01", "2026-06-30", "2026-Q2"),
        ("2026-08-15", "2026-07-01", "2026-09-30", "2026-Q3"),
        ("2026-12-31", "2026-10-01", "2026-12-31", "2026-Q4"),
        ("2027-01-01", "2027-01-01", "2027-03-31", "2027-Q1"),
    ],
)
def test_quarters(day, start, end, label):
    period = report_period_containing(d(day))
    assert (period.start, period.end, period.label) == (d(start), d(end), label)


@pytest.mark.parametrize(
    ("day", "start", "end", "label"),
    [
        ("2026-02-10", "2026-02-01", "2026-02-28", "2026-02"),
        ("2028-02-29", "2028-02-01", "2028-02-29", "2028-02"),
        ("2026-12-15", "2026-12-01", "2026-12-31", "2026-12"),
        ("2027-01-31", "2027-01-01", "2027-01-31", "2027-01"),
    ],
)
def test_months_with_broker_report_period_month(settings, day, start, end, label):
    settings.BROKER_REPORT_PERIOD = "month"
    period = report_period_containing(d(day))
    assert (period.start, period.end, period.label) == (d(start), d(end), label)


@pytest.mark.parametrize("mode", MODES)
@hypothesis.settings(max_examples=200, deadline=None)
@given(day=days)
def test_the_period_containing_a_day_is_its_calendar_quarter_or_month(mode, day):
    with override_settings(BROKER_REPORT_PERIOD=mode):
        period = report_period_containing(day)
    assert (period.start, period.end) == expected_period(day, mode)
    assert period.start <= day <= period.end


def test_a_report_is_due_the_grace_days_after_its_period(settings):
    q1 = ReportPeriod(d("2026-01-01"), d("2026-03-31"))
    assert report_period_due_on(q1) == d("2026-04-15")
    settings.BROKER_REPORT_GRACE_DAYS = 0
    assert report_period_due_on(q1) == d("2026-03-31")


def test_the_fourth_quarter_is_due_in_the_next_year():
    q4 = report_period_containing(d("2025-11-20"))
    assert (q4.label, report_period_due_on(q4)) == ("2025-Q4", d("2026-01-15"))


@hypothesis.settings(max_examples=200, deadline=None)
@given(day=days, today=days, grace=st.integers(0, 366))
def test_a_period_is_past_due_exactly_when_its_due_date_is_behind_us(day, today, grace):
    with override_settings(BROKER_REPORT_GRACE_DAYS=grace):
        period = report_period_containing(day)
        assert (period.end <= last_day_past_due(today)) == (today > report_period_due_on(period))
        assert report_period_due_on(period) - period.end == datetime.timedelta(days=grace)


def test_periods_start_with_the_one_containing_the_issue_date_and_cross_years(settings):
    def labels(issued: str, ended: str) -> list[str]:
        return [p.label for p in report_periods(issued_on=d(issued), ended_by=d(ended))]

    assert labels("2026-02-10", "2026-09-29") == ["2026-Q1", "2026-Q2"]
    assert labels("2026-02-10", "2026-09-30") == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert labels("2025-11-20", "2026-04-01") == ["2025-Q4", "2026-Q1"]
    assert labels("2026-02-10", "2026-03-30") == []
    settings.BROKER_REPORT_PERIOD = "month"
    assert labels("2025-12-15", "2026-02-28") == ["2025-12", "2026-01", "2026-02"]


@pytest.mark.parametrize("mode", MODES)
@hypothesis.settings(max_examples=200, deadline=None)
@given(issued_on=days, span=st.integers(0, 3 * 366))
def test_a_licences_periods_follow_each_other_day_after_day(mode, issued_on, span):
    ended_by = issued_on + datetime.timedelta(days=span)
    with override_settings(BROKER_REPORT_PERIOD=mode):
        periods = report_periods(issued_on=issued_on, ended_by=ended_by)
    # Counted by the calendar: every period that has ended by ``ended_by``, from the issue date's.
    months = 3 if mode == "quarter" else 1
    first = (issued_on.year * 12 + issued_on.month - 1) // months
    following = (ended_by.year * 12 + ended_by.month - 1) // months
    ends_on_its_last_day = expected_period(ended_by, mode)[1] == ended_by
    assert len(periods) == following - first + ends_on_its_last_day
    for period in periods:
        assert (period.start, period.end) == expected_period(period.start, mode)
    for earlier, later in itertools.pairwise(periods):
        assert later.start == earlier.end + datetime.timedelta(days=1)
    if periods:
        assert periods[0].start <= issued_on <= periods[0].end
        assert periods[-1].end <= ended_by


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2026-01-15", 6, "2026-07-15"),
        ("2026-08-31", 6, "2027-02-28"),  # no 31 February: the month's last day
        ("2027-08-31", 6, "2028-02-29"),  # a leap year
        ("2026-12-01", 1, "2027-01-01"),
        ("2026-03-31", 0, "2026-03-31"),
    ],
)
def test_months_later(day, months, expected):
    assert months_later(d(day), months) == d(expected)


@hypothesis.settings(max_examples=200, deadline=None)
@given(day=days, months=st.integers(0, 60))
def test_months_later_keeps_the_day_or_takes_the_months_last(day, months):
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    expected = datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    assert months_later(day, months) == expected
