"""Query helpers: plans for pages whose best plan depends on whose records they read (ADR 0003),
and the one bulk update by values (ADR 0007)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet


@contextmanager
def custom_plans(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Inside, PostgreSQL plans each statement for the values it is given, never a generic plan.

    A statement psycopg has prepared (``DATABASE_PREPARED_STATEMENTS``) switches to a generic plan
    after five runs when that plan looks no dearer on average. For the pages that read one party's
    records the average party has some 40 and the largest 30,000: the generic plan made for 40
    read all 30,000 and sorted them (146 ms instead of 2 ms for who-signed by that tax code on the
    scale database). Use it, as a decorator or a block, where a query's best plan depends on whose
    records it reads; the signing path's lookups by unique keys keep their prepared plans."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.prepare_threshold
    raw.prepare_threshold = None  # psycopg neither prepares nor uses what it has prepared
    try:
        yield
    finally:
        raw.prepare_threshold = previous


class IdsFirst:
    """``queryset`` a page at a time, in two steps: the page's ids, planned for this call's values
    (``custom_plans``: whose records they are decides the plan), then those ids' rows under a
    prepared plan, loaded by primary key alone: model instances from ``rows``, or the named tuples
    of ``values`` (a ``values_list(..., named=True)`` that includes ``"pk"``). Planning the joins on
    every call would cost more than the page's queries; loading with the search's own filters
    again would read every record the filter matches (a certificate's thirty thousand)."""

    def __init__(self, queryset: QuerySet, *, rows: QuerySet | None = None, values: QuerySet | None = None):
        if (rows is None) == (values is None):
            raise TypeError("IdsFirst loads either instances (rows) or named values (values)")
        self.queryset, self.rows, self.values = queryset, rows, values

    def __getitem__(self, window: slice) -> list:
        if not isinstance(window, slice):
            raise TypeError("IdsFirst is read a page (a slice) at a time")
        with custom_plans(self.queryset.db):
            ids = list(self.queryset.values_list("pk", flat=True)[window])
        if self.rows is not None:
            return rows_in_order(self.rows, ids)
        return values_in_order(self.values, ids)


def rows_in_order(rows: QuerySet, ids: list) -> list:
    """The instances of ``rows`` with these primary keys, in one query by key alone, in ``ids``'
    order."""
    by_id = rows.order_by().in_bulk(ids)
    return [by_id[pk] for pk in ids]


def values_in_order(values: QuerySet, ids: list) -> list:
    """The rows of ``values``, a ``values_list(..., named=True)`` that includes ``"pk"``, with these
    primary keys, in one query by key alone, in ``ids``' order."""
    by_id = {}
    for row in values.order_by().filter(pk__in=ids):
        try:
            by_id[row.pk] = row
        except AttributeError:
            raise ValueError(
                "values are loaded in order by their primary key: use values_list(..., 'pk', ..., named=True)"
            ) from None
    return [by_id[pk] for pk in ids]


VALUES_UPDATE_ROWS = 500  # rows per statement: well under SQLite's and PostgreSQL's parameter limits


def update_from_values(
    model: type[Model], objects: list[Model], fields: list[str], *, using=DEFAULT_DB_ALIAS
) -> int:
    """Write ``fields`` of each of ``objects`` (already loaded, primary key set) in one
    ``UPDATE … FROM (VALUES …)`` per 500 rows; returns the rows updated.

    What ``bulk_update`` does, without its ``CASE WHEN pk = … THEN …`` per row and field: building
    those expressions cost the risk engine's batch a fifth of its time (ADR 0007). Values are
    prepared by each field's ``get_db_prep_save``, as ``save()`` prepares them; on PostgreSQL each
    is cast to its column's type, since a ``VALUES`` list has no column types of its own. No
    signals are sent and ``auto_now`` fields are not touched, as with ``bulk_update``."""
    if not objects:
        return 0
    connection = connections[using]
    meta = model._meta
    key = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)

    def slot(field) -> str:
        return f"CAST(%s AS {field.db_type(connection)})" if connection.vendor == "postgresql" else "%s"

    row = "(" + ", ".join(slot(field) for field in [key, *columns]) + ")"
    # A VALUES list names its columns column1, column2, … on both PostgreSQL and SQLite.
    assignments = ", ".join(
        f"{quote(field.column)} = v.column{index + 2}" for index, field in enumerate(columns)
    )
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objects), VALUES_UPDATE_ROWS):
            chunk = objects[start : start + VALUES_UPDATE_ROWS]
            params = []
            for instance in chunk:
                params.append(key.get_db_prep_save(instance.pk, connection))
                params.extend(
                    field.get_db_prep_save(getattr(instance, field.attname), connection) for field in columns
                )
            cursor.execute(
                f"UPDATE {table} SET {assignments} "  # noqa: S608 - names are ours, values are parameters
                f"FROM (VALUES {', '.join([row] * len(chunk))}) AS v "
                f"WHERE {table}.{quote(key.column)} = v.column1",
                params,
            )
            updated += cursor.rowcount
    return updated
