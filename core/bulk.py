"""Many rows, each with its own values, inserted or updated in one statement."""

from __future__ import annotations

import datetime
import decimal
import functools
import ipaddress
import json
import uuid

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone


class _NotInJson(Exception):
    """A value that one JSON document cannot carry faithfully: the caller falls back to Django's."""


def _prepares_as_django_does(field: models.Field) -> bool:
    """Whether the field prepares its values with Django's own code (a subclass may change them:
    audit's canonical JSON)."""
    return all(
        getattr(type(field), name).__module__.startswith("django.db.models.fields")
        for name in ("to_python", "get_prep_value", "get_db_prep_value", "get_db_prep_save")
    )


def _kind(field: models.Field) -> str:
    """How a field's values become JSON. Calling ``get_db_prep_save`` for every value of every row
    was most of an insert's Python time, and for text, integers and booleans of the right type,
    and for aware times, it hands the value over unchanged."""
    if not _prepares_as_django_does(field):
        return "prepared"
    if isinstance(field, models.JSONField):
        return "json"
    if isinstance(field, models.BinaryField):
        return "binary"
    if isinstance(field, models.ForeignKey):
        return _kind(field.target_field)
    if isinstance(field, models.CharField | models.TextField):
        return "text"
    if isinstance(field, models.BooleanField):
        return "boolean"
    if isinstance(field, models.IntegerField):  # the automatic keys too
        return "integer"
    if type(field) is models.DateTimeField:
        return "datetime"
    return "prepared"


_UNCHANGED = {"text": (str,), "integer": (int,), "boolean": (bool,)}


@functools.cache
def _json_columns(model: type[models.Model], names: tuple[str, ...] | None):
    """The fields written (``names`` after the primary key, or every concrete field but an
    automatic primary key), each with its column's type in a ``json_to_recordset`` column list and
    how its values are made JSON."""
    meta = model._meta
    if names is None:
        fields = [
            f
            for f in meta.concrete_fields
            if not (f.primary_key and f.db_returning) and not getattr(f, "generated", False)
        ]
    else:
        fields = [meta.pk, *(meta.get_field(name) for name in names)]
    types = [
        field.rel_db_type(connection) if field.is_relation else field.db_type(connection) for field in fields
    ]
    return fields, types, [_kind(field) for field in fields]


_SIMPLE = (str, int, bool, type(None))


def _json_value(field: models.Field, kind: str, value, database):
    """What Django would send for ``value``, as JSON that PostgreSQL reads back to the same value."""
    if value is None and kind in _UNCHANGED:
        return value
    if kind == "text" and isinstance(value, str):
        return value
    if kind in ("integer", "boolean") and type(value) in _UNCHANGED[kind]:  # True is an int too
        return value
    if kind == "datetime" and isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.isoformat()
    if kind == "json":
        if value is None:  # JSON null or SQL NULL: Django's own choice
            raise _NotInJson(field.name)
        return value if field.encoder is None else json.loads(json.dumps(value, cls=field.encoder))
    if kind == "binary":
        # bytea's hex input format
        return None if value is None else "\\x" + bytes(value).hex()
    value = field.get_db_prep_save(value, database)
    if isinstance(value, _SIMPLE):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal | ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    raise _NotInJson(field.name)


def _json_document(columns, rows, value_of) -> str:
    """One JSON document of ``rows``, each field's value given by ``value_of(field, row)``."""
    fields, _types, kinds = columns
    database = connections[DEFAULT_DB_ALIAS]  # not the thread-local proxy, looked up per value
    described = list(zip(fields, kinds, strict=True))
    documents = [
        {field.column: _json_value(field, kind, value_of(field, row), database) for field, kind in described}
        for row in rows
    ]
    return json.dumps(documents, ensure_ascii=False, separators=(",", ":"))


def _json_rows(columns, objects, *, adding: bool) -> str:
    if adding:
        return _json_document(columns, objects, lambda field, obj: field.pre_save(obj, True))
    return _json_document(columns, objects, lambda field, obj: getattr(obj, field.attname))


def _json_value_rows(columns, rows: list[dict]) -> str:
    """``_json_rows`` for rows given as ``{attname: value}``; a field left out takes what
    ``save()`` would give it: now for ``auto_now``/``auto_now_add``, else its default."""
    now = timezone.now()

    def value_of(field, row):
        if field.attname in row:
            return row[field.attname]
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return now
        return field.get_default()

    return _json_document(columns, rows, value_of)


def _recordset(fields: list[models.Field], types: list[str]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{quote(field.column)} {db_type}" for field, db_type in zip(fields, types, strict=True))


def _insert_document(model: type[models.Model], columns, document: str) -> list:
    """Inserts the rows of a ``_json_rows`` document; returns their new primary keys, in order."""
    fields, types, _kinds = columns
    quote = connection.ops.quote_name
    meta = model._meta
    names = ", ".join(quote(field.column) for field in fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) "  # noqa: S608 - names come from the model
        f"SELECT {names} FROM json_to_recordset(%s::json) AS v({_recordset(fields, types)}) "
        f"RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
        return [row[0] for row in cursor.fetchall()]


def bulk_insert_rows(model: type[models.Model], objects: list[models.Model]) -> list[models.Model]:
    """``QuerySet.bulk_create`` (no conflicts handling, one batch) in one statement whose text is
    the same for every batch on PostgreSQL: the rows travel as one JSON document read by
    ``json_to_recordset``, and the new primary keys come back in order. Django's own builds and
    adapts a parameter per column per row (or an array per column), and its text changes with the
    number of rows, so each size is prepared anew; for the few dozen rows the risk engine writes per
    batch that cost more than the insert. Elsewhere (SQLite), or for a value JSON cannot carry,
    it is Django's own."""
    if not objects:
        return objects
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objects)
    for obj in objects:
        # What bulk_create checks and copies: a related object saved after it was assigned.
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    try:
        columns = _json_columns(model, None)
        document = _json_rows(columns, objects, adding=True)
    except _NotInJson:
        return model.objects.bulk_create(objects)
    keys = _insert_document(model, columns, document)
    meta = model._meta
    for obj, key in zip(objects, keys, strict=True):
        setattr(obj, meta.pk.attname, key)
        obj._state.adding = False
        obj._state.db = "default"
    return objects


def bulk_insert_values(model: type[models.Model], rows: list[dict]) -> list[int]:
    """``bulk_insert_rows`` for rows given as ``{attname: value}`` (foreign keys by id) instead of
    model instances, for callers that only need the rows written: building an instance per row
    (``Model.__init__``, related-object checks, ``pre_save``) cost more than its insert. Fields left
    out get what ``save()`` would give them. Returns the new primary keys, in order."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        columns = _json_columns(model, None)
        try:
            return _insert_document(model, columns, _json_value_rows(columns, rows))
        except _NotInJson:
            pass  # a value JSON cannot carry: Django's own, as elsewhere
    return [obj.pk for obj in model.objects.bulk_create([model(**row) for row in rows])]


def bulk_update_rows(model: type[models.Model], objects: list[models.Model], fields: list[str]) -> None:
    """``QuerySet.bulk_update`` in one statement on PostgreSQL: the new values travel as one JSON
    document (``UPDATE ... FROM json_to_recordset(...)``), joined to the rows by id. Django's own
    writes a CASE with a branch per row for every column, which costs more to build and plan than
    the update for the batches the risk engine writes. Elsewhere (SQLite), or for a value JSON
    cannot carry, it is Django's own."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, fields)
        return
    try:
        columns = _json_columns(model, tuple(fields))
        document = _json_rows(columns, objects, adding=False)
    except _NotInJson:
        model.objects.bulk_update(objects, fields)
        return
    columns, types, _kinds = columns
    quote = connection.ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    pk = quote(meta.pk.column)
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names come from the model
        f"FROM json_to_recordset(%s::json) AS v({_recordset(columns, types)}) WHERE t.{pk} = v.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
