"""core.pg_loaders: PostgreSQL timestamps parsed by psycopg's compiled loader give exactly the
values Django's own loader gives."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz import examples

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL connection's loaders"),
]

MOMENTS = [
    datetime.datetime(2026, 11, 30, 23, 13, 24, 810224, tzinfo=datetime.UTC),
    datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7))),
    datetime.datetime(
        1999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.timezone(-datetime.timedelta(hours=9))
    ),
    datetime.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=datetime.UTC),
    datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
]


def _loaded(moment: datetime.datetime) -> datetime.datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [moment])
        return cursor.fetchone()[0]


def _django_loaded(moment: datetime.datetime) -> datetime.datetime:
    """What Django's own (pure-Python) loader reads from the same text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz::text", [moment])
        text = cursor.fetchone()[0]
    loader = type("DjangoTz", (BaseTzLoader,), {"timezone": connection.timezone})
    return loader(1184, connection.connection).load(text.encode())


def test_new_connections_read_timestamps_with_the_compiled_loader():
    connection.ensure_connection()
    from psycopg.pq import Format

    from core.pg_loaders import TIMESTAMPTZ_OID

    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert loader.__name__ == "CompiledTzLoader"
    assert loader.timezone == connection.timezone


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_the_same_instant_and_time_zone_as_djangos_loader(moment):
    loaded = _loaded(moment)
    assert loaded == moment
    assert loaded.tzinfo is connection.timezone
    assert loaded == _django_loaded(moment)
    assert loaded.utcoffset() == _django_loaded(moment).utcoffset()


@settings(max_examples=examples(60), deadline=None)
# hypothesis takes naive bounds and adds the time zone itself
@given(st.datetimes(min_value=datetime.datetime(1900, 1, 1), timezones=st.just(datetime.UTC)))  # noqa: DTZ001
def test_any_instant_reads_back_unchanged(moment):
    assert _loaded(moment) == moment


def test_model_fields_come_back_aware_and_equal():
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory()
    again = type(organization).objects.get(pk=organization.pk)
    assert again.created_at == organization.created_at
    assert again.created_at.tzinfo is not None
