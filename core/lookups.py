"""``field__any=[...]``: what ``field__in=[...]`` selects, as one array parameter on PostgreSQL.

``IN (%s, %s, ...)`` has a placeholder per value: each value is prepared and bound on its own and
the statement's text changes with the list's length, so PostgreSQL plans it anew for every batch
and psycopg never prepares it. ``= ANY(%s)`` keeps one text whatever the length. Registered on
every field and relation by ``config.apps``; on other databases, and for a subquery or a
multi-column relation, it is ``IN``.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field
from django.db.models.expressions import ColPairs
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class _ArrayParameter:
    lookup_name = "any"

    def as_sql(self, compiler, connection):
        if (
            connection.vendor != "postgresql"
            or not self.rhs_is_direct_value()
            or isinstance(self.lhs, ColPairs)
        ):
            return super().as_sql(compiler, connection)
        field = self.lhs.output_field
        if field.is_relation:  # the column holds the target's values
            field = field.target_field
        values, seen = [], set()
        for value in self.rhs:
            if value is None or value in seen:  # NULL is never equal to anything, as for IN
                continue
            seen.add(value)
            values.append(field.get_db_prep_value(value, connection, prepared=True))
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{field.rel_db_type(connection)}[])", [*lhs_params, values]


class AnyOf(_ArrayParameter, In):
    pass


class RelatedAnyOf(_ArrayParameter, RelatedIn):
    pass


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(RelatedAnyOf)
