"""core.queries.custom_plans and IdsFirst: statements planned for each call's values where the
plan depends on whose records are read, the same pages as the plain queryset."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import Organization
from core.queries import IdsFirst, custom_plans
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _prepared_statements_naming(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{table}%"])
        return cursor.fetchone()[0]


@postgresql_only
def test_inside_nothing_is_prepared_outside_a_repeated_statement_is():
    organization = OrganizationFactory()
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        pytest.skip("DATABASE_PREPARED_STATEMENTS is off here")
    with custom_plans():
        for _ in range(8):
            assert list(
                Organization.objects.filter(tax_code=organization.tax_code).values_list("pk", flat=True)
            )
    assert _prepared_statements_naming("accounts_organization") == 0
    threshold = connection.connection.prepare_threshold
    for _ in range(threshold + 1):
        list(Organization.objects.filter(tax_code=organization.tax_code).values_list("pk", flat=True))
    assert _prepared_statements_naming("accounts_organization") >= 1
    # Restored after the block, also when it raises.
    with pytest.raises(RuntimeError), custom_plans():
        raise RuntimeError
    assert connection.connection.prepare_threshold == threshold


def test_pages_hold_what_the_queryset_holds_in_its_order():
    for n in range(7):
        OrganizationFactory(name=f"Công ty {n % 3}")
    queryset = Organization.objects.select_related().order_by("name", "-pk")
    pages = IdsFirst(queryset, rows=Organization.objects.all())
    for window in (slice(0, 3), slice(3, 6), slice(6, 9), slice(20, 23), slice(None, 4)):
        assert [o.pk for o in pages[window]] == [o.pk for o in queryset[window]]
    assert IdsFirst(Organization.objects.none(), rows=Organization.objects.all())[0:10] == []
    # The rows come by id alone: a filter of the search is not applied to them again.
    first = IdsFirst(queryset.filter(name="Công ty 0"), rows=Organization.objects.filter(pk__gt=0))[0:2]
    assert [o.name for o in first] == ["Công ty 0", "Công ty 0"]
    with pytest.raises(TypeError):
        pages[0]


def test_pages_of_values_come_as_the_values_list_rows_in_the_querysets_order():
    for n in range(5):
        OrganizationFactory(name=f"Công ty {n % 2}")
    queryset = Organization.objects.order_by("name", "-pk")
    rows = Organization.objects.values_list("pk", "name", "tax_code", named=True)
    pages = IdsFirst(queryset, values=rows)
    expected = list(queryset.values_list("pk", "name", "tax_code"))
    for window in (slice(0, 2), slice(2, 5), slice(4, 9)):
        page = pages[window]
        assert [tuple(row) for row in page] == expected[window]
        assert all(row.pk == row[0] for row in page)
    with pytest.raises(ValueError, match="primary key"):
        IdsFirst(queryset, values=Organization.objects.values_list("name", "pk"))[0:2]
