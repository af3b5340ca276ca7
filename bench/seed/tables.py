"""Loading a model's table with PostgreSQL's ``COPY`` (psycopg's public copy API)."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Iterator

from django.db import DatabaseError, connection, models, transaction

_MISSING = object()


class Table:
    """A model's table for ``COPY``: every concrete column, the ones not given per row filled once
    with the field's default (prepared for the database), so rows stay complete as models grow."""

    def __init__(self, model: type[models.Model], varying: tuple[str, ...], **fixed):
        self.model = model
        self.name = model._meta.db_table
        # An identity primary key not given is left to the sequence.
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key or f.name in varying or f.attname in varying
        ]
        by_name = {f.name: f for f in fields} | {f.attname: f for f in fields}
        self.columns = [f.column for f in fields]
        self._template: list = []
        for f in fields:
            if f.name in varying or f.attname in varying:
                self._template.append(None)
                continue
            value = fixed.get(f.name, fixed.get(f.attname, _MISSING))
            if value is _MISSING:
                # A non-null text field's default is "" even without an explicit default.
                value = f.get_default() if f.has_default() or not f.null else None
            self._template.append(f.get_db_prep_save(value, connection) if value is not None else None)
        self._positions = [self.columns.index(by_name[name].column) for name in varying]

    def rows(self, values: Iterable[tuple]) -> Iterator[list]:
        template, positions = self._template, self._positions
        for row in values:
            out = template.copy()
            for position, value in zip(positions, row, strict=True):
                out[position] = value
            yield out

    def copy(self, values: Iterable[tuple], *, rebuild_indexes: bool = False) -> int:
        """``COPY`` the rows in; with ``rebuild_indexes``, inside ``secondary_indexes_dropped``."""
        if rebuild_indexes:
            with secondary_indexes_dropped(self.name):
                return self.copy(values)
        count = 0
        with connection.cursor() as cursor:
            columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
            # Foreign keys are checked by row triggers: seven look-ups per signature record made the
            # load CPU-bound in PostgreSQL. The generator writes only ids it has just written (the
            # test of seed_scale checks every reference), so the checks are skipped for the load,
            # as pg_restore --disable-triggers does; this needs a superuser, else they run.
            replica = set_replication_role(cursor, "replica")
            try:
                with cursor.cursor.copy(f"COPY {self.name} ({columns}) FROM STDIN") as copy:
                    for row in self.rows(values):
                        copy.write_row(row)
                        count += 1
            finally:
                if replica:
                    set_replication_role(cursor, "DEFAULT")
        return count


@contextlib.contextmanager
def secondary_indexes_dropped(table: str, *, keep: Collection[str] = ()) -> Iterator[None]:
    """The table's secondary indexes and unique constraints (but those named in ``keep``) dropped
    meanwhile and built again after, exactly as they were defined: one sorted build per index
    instead of millions of inserts at random places (event ids are random UUIDs) through a buffer
    cache far smaller than the indexes. The table is empty and nobody else uses it meanwhile."""
    with connection.cursor() as cursor:
        rebuild = drop_secondary_indexes(cursor, table, keep=keep)
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for statement in rebuild:
            cursor.execute(statement)
        cursor.execute("RESET maintenance_work_mem")


def drop_secondary_indexes(cursor, table: str, *, keep: Collection[str] = ()) -> list[str]:
    """Drop every index of ``table`` but its primary key's and those named in ``keep`` (unique
    constraints included); returns the statements that create them again, exactly as they were
    defined."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
        "AND contype = 'u'",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        [table],
    )
    indexes = cursor.fetchall()
    constraints = [(name, definition) for name, definition in constraints if name not in keep]
    indexes = [(name, definition) for name, definition in indexes if name not in keep]
    quote = connection.ops.quote_name
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {quote(name)}")
    return [definition for _name, definition in indexes] + [
        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
        for name, definition in constraints
    ]


def set_replication_role(cursor, role: str) -> bool:
    try:
        with transaction.atomic():
            cursor.execute(f"SET session_replication_role = {role}")
    except DatabaseError:
        return False
    return True
