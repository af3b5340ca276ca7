"""Querysets compiled to SQL once per process, for the few lookups on the signing hot path.

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

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

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
