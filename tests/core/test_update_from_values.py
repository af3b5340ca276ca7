"""core.queries.update_from_values writes exactly what Django's bulk_update writes, for every kind
of field it is used with (integers, texts, choices, JSON, date-times, nullable keys)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import SignInEvent
from audit.models import Flag
from core import queries
from core.queries import update_from_values
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIELDS = ["count", "last_seen_at", "evidence", "explanation", "severity", "user"]
COLUMNS = ["count", "last_seen_at", "evidence", "explanation", "severity", "user_id"]


def _flags(n: int, organization=None) -> list[Flag]:
    now = timezone.now()
    return Flag.objects.bulk_create(
        Flag(
            kind="k",
            severity="low",
            explanation="x",
            first_seen_at=now,
            last_seen_at=now,
            organization=organization,
        )
        for _ in range(n)
    )


def _rows(flags: list[Flag]) -> list[tuple]:
    return list(Flag.objects.filter(pk__in=[f.pk for f in flags]).order_by("pk").values_list(*COLUMNS))


# PostgreSQL refuses NUL in text and jsonb (for bulk_update as much as here).
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
changes = st.lists(
    st.tuples(
        st.integers(0, 2**31 - 1),
        st.datetimes(
            min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 1, 1),  # noqa: DTZ001 - naive bounds, as hypothesis wants
            timezones=st.just(datetime.UTC),
        ),
        st.dictionaries(texts, json_values, max_size=3),
        st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40),
        st.sampled_from(Flag.Severity.values),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=changes)
def test_it_writes_what_bulk_update_writes(changes):
    user = UserFactory()
    ours, django = _flags(len(changes)), _flags(len(changes))
    for flags in (ours, django):
        for flag, (count, seen, evidence, explanation, severity, with_user) in zip(
            flags, changes, strict=True
        ):
            flag.count, flag.last_seen_at, flag.evidence = count, seen, evidence
            flag.explanation, flag.severity, flag.user = explanation, severity, user if with_user else None
    assert update_from_values(Flag, ours, FIELDS) == len(changes)
    Flag.objects.bulk_update(django, FIELDS)
    assert _rows(ours) == _rows(django)


def test_only_the_named_fields_and_rows_change():
    flags = _flags(3)
    untouched = _rows(flags[2:])
    flags[0].count, flags[0].outcome = 7, "not written"
    flags[1].count = 9
    assert update_from_values(Flag, flags[:2], ["count"]) == 2
    assert [f.count for f in Flag.objects.filter(pk__in=[flags[0].pk, flags[1].pk]).order_by("pk")] == [7, 9]
    assert Flag.objects.get(pk=flags[0].pk).outcome == ""
    assert _rows(flags[2:]) == untouched


def test_it_writes_in_statements_of_bounded_size(monkeypatch):
    monkeypatch.setattr(queries, "VALUES_UPDATE_ROWS", 2)
    flags = _flags(5)
    for number, flag in enumerate(flags):
        flag.count = 100 + number
    with CaptureQueriesContext(connection) as captured:
        assert update_from_values(Flag, flags, ["count"]) == 5
    assert len([q for q in captured if q["sql"].lstrip().upper().startswith("UPDATE")]) == 3
    assert [f.count for f in Flag.objects.filter(pk__in=[f.pk for f in flags]).order_by("pk")] == [
        100,
        101,
        102,
        103,
        104,
    ]


def test_nothing_to_write_runs_no_statement():
    with CaptureQueriesContext(connection) as captured:
        assert update_from_values(SignInEvent, [], ["risk_score"]) == 0
    assert len(captured) == 0
