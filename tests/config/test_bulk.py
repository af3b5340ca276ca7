"""config.bulk.bulk_update_rows: each row gets its own values, whatever the column type, and rows
left out keep theirs (PostgreSQL's one-statement path and Django's own on SQLite)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import Flag
from audit.services import flag_raise
from config.bulk import bulk_update_rows

pytestmark = pytest.mark.django_db


def _flags(count: int) -> list[Flag]:
    return [
        flag_raise(kind=f"kind_{index}", severity="low", explanation="first", evidence={"seen": index})[0]
        for index in range(count)
    ]


def test_every_row_gets_its_own_values_and_the_others_keep_theirs():
    flags = _flags(4)
    base = timezone.now().replace(microsecond=0)
    changed = flags[:3]
    for index, flag in enumerate(changed):
        flag.count = 10 + index
        flag.last_seen_at = base + datetime.timedelta(hours=index)
        flag.evidence = {"seen": [index, "ø"], "nested": {"quote": 'it\'s "x"'}}
        flag.explanation = f"changed {index}; DROP TABLE audit_flag; --"
        flag.severity = ["medium", "high", "low"][index]
    with CaptureQueriesContext(connection) as queries:
        bulk_update_rows(Flag, changed, ["count", "last_seen_at", "evidence", "explanation", "severity"])
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 1
    for index, flag in enumerate(changed):
        stored = Flag.objects.get(pk=flag.pk)
        assert (stored.count, stored.last_seen_at, stored.evidence, stored.explanation, stored.severity) == (
            10 + index, base + datetime.timedelta(hours=index),
            {"seen": [index, "ø"], "nested": {"quote": "it's \"x\""}},
            f"changed {index}; DROP TABLE audit_flag; --", ["medium", "high", "low"][index],
        )  # fmt: skip
    untouched = Flag.objects.get(pk=flags[3].pk)
    assert (untouched.count, untouched.evidence, untouched.explanation) == (1, {"seen": 3}, "first")


def test_only_the_named_fields_change_and_nothing_is_a_no_op():
    (flag,) = _flags(1)
    bulk_update_rows(Flag, [], ["count"])
    flag.count, flag.explanation = 7, "not saved"
    bulk_update_rows(Flag, [flag], ["count"])
    stored = Flag.objects.get(pk=flag.pk)
    assert (stored.count, stored.explanation) == (7, "first")
