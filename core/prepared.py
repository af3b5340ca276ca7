"""Querysets and inserts compiled to SQL once per process, for the signing hot path.

Building and compiling a queryset with joins and subqueries costs Django more than a millisecond,
several times what PostgreSQL needs to answer it (measured by ``bench/sign.py``). A
``PreparedQuery`` compiles its queryset once, with marker values in place of its parameters, and
afterwards only binds the call's values into the same SQL and turns the rows into model instances
(``select_related`` and annotations included) exactly as Django's own iterator does.

Parameters are strings or integers, which every backend binds unchanged; anything else (dates,
lists, model instances) is refused at compile time rather than bound wrongly.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections, router, transaction
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

# Private-use characters and integers near 2**62 never occur in real parameters.
_STRING_MARKER = "\ue000{}\ue000"
_INTEGER_MARKER = 2**62 - 1_000


class PreparedQuery:
    """``PreparedQuery(build, fingerprint=str, user_id=int)``: ``build(**markers)`` returns the
    queryset; calling the prepared query with the same keyword arguments returns a list of
    instances."""

    def __init__(self, build: Callable[..., QuerySet], **parameter_types: type):
        if not set(parameter_types.values()) <= {str, int}:
            raise TypeError("prepared parameters are str or int")
        self._build = build
        self._types = parameter_types
        self._plan_cache: tuple | None = None

    def _markers(self) -> dict[str, str | int]:
        return {
            name: _STRING_MARKER.format(name) if kind is str else _INTEGER_MARKER + index
            for index, (name, kind) in enumerate(self._types.items())
        }

    def _plan(self) -> tuple:
        if self._plan_cache is not None:
            return self._plan_cache
        markers = self._markers()
        queryset = self._build(**markers)
        alias = queryset.db
        compiler = queryset.query.get_compiler(using=alias)
        sql, template = compiler.as_sql()
        by_value = {value: name for name, value in markers.items()}
        slots = [(position, by_value[value]) for position, value in enumerate(template) if value in by_value]
        if {name for _, name in slots} != set(markers) or any(
            str(value) in sql for value in markers.values()
        ):
            raise ValueError("a parameter was transformed or inlined; this queryset cannot be prepared")
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self._plan_cache = (
            alias,
            sql,
            list(template),
            slots,
            compiler,
            klass_info["model"],
            start,
            end,
            [column[0].target.attname for column in select[start:end]],
            get_related_populators(klass_info, select, alias),
            compiler.annotation_col_map or {},
            # Django looks the converters up again on every iteration; they depend only on the columns.
            compiler.get_converters([column[0] for column in select[0 : compiler.col_count]]),
        )
        return self._plan_cache

    def __call__(self, **values) -> list:
        if set(values) != set(self._types):
            raise TypeError(f"expected the parameters {sorted(self._types)}")
        (alias, sql, template, slots, compiler, model_cls, start, end, init_list, populators, annotations,
         converters) = self._plan()  # fmt: skip
        params = list(template)
        for position, name in slots:
            params[position] = self._types[name](values[name])
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        instances = []
        for row in compiler.apply_converters(rows, converters) if converters else rows:
            instance = model_cls.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            for name, position in annotations.items():
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances


class PreparedInsert:
    """``PreparedInsert(Model)(instance)`` inserts a new instance as ``instance.save(force_insert=True)``
    does (each field's ``pre_save`` and database preparation, the primary key read back, the instance
    marked saved), with the INSERT statement compiled once per process: Django compiles it again on
    every save, about half of a small insert's cost on the signing path (``bench/sign.py``).

    ``pre_save``/``post_save`` receivers still run: while any listens to the model, this is a plain
    ``save``. Models with a custom ``save`` or ``order_with_respect_to`` are refused."""

    def __init__(self, model: type[Model]):
        meta = model._meta
        if (
            model.save is not Model.save
            or meta.order_with_respect_to
            or meta.parents
            or meta.auto_field is None
        ):
            raise TypeError(f"{model.__name__} cannot be inserted by a prepared statement")
        self._model = model
        self._plans: dict[str, tuple] = {}

    def _plan(self, alias: str, instance: Model) -> tuple:
        meta = self._model._meta
        fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        query = InsertQuery(self._model)
        query.insert_values(fields, [instance])
        compiler = query.get_compiler(using=alias)
        # A field may choose its placeholder by value (MySQL's binaries): only a fixed one can be kept.
        for field in fields:
            if hasattr(field, "get_placeholder"):
                value = compiler.prepare_value(field, field.pre_save(instance, True))
                if field.get_placeholder(value, compiler, compiler.connection) != field.get_placeholder(
                    None, compiler, compiler.connection
                ):
                    raise TypeError(f"{field} has a placeholder that depends on its value")
        compiler.returning_fields = meta.db_returning_fields
        [(sql, _params)] = compiler.as_sql()
        query.objs = []  # the compiler is kept for its value preparation, not this first instance
        returning = (
            compiler.returning_fields if connections[alias].features.can_return_columns_from_insert else []
        )
        converters = compiler.get_converters([field.get_col(meta.db_table) for field in returning])
        self._plans[alias] = plan = (sql, fields, compiler, returning, converters)
        return plan

    def __call__(self, instance: Model, *, using: str | None = None) -> Model:
        model = self._model
        if type(instance) is not model or not instance._state.adding:
            raise TypeError(f"expected a new {model.__name__}")
        if pre_save.has_listeners(model) or post_save.has_listeners(model):
            instance.save(force_insert=True, using=using)
            return instance
        alias = using or router.db_for_write(model, instance=instance)
        if instance.pk is not None:
            raise TypeError("a prepared insert lets the database choose the primary key")
        instance._prepare_related_fields_for_save(operation_name="save")
        sql, fields, compiler, returning, converters = self._plans.get(alias) or self._plan(alias, instance)
        params = [compiler.prepare_value(field, field.pre_save(instance, True)) for field in fields]
        connection = connections[alias]
        with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
            cursor.execute(sql, params)
            if returning:
                rows = [connection.ops.fetch_returned_insert_columns(cursor, compiler.returning_params)]
            else:  # a backend without RETURNING: the auto field from the cursor
                rows = [(connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column),)]
                returning = [model._meta.pk]
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        for field, value in zip(returning, rows[0], strict=True):
            setattr(instance, field.attname, value)
        instance._state.adding = False
        instance._state.db = alias
        return instance
