"""core.lookups: ``field__any`` selects what ``field__in`` selects, with one array parameter on
PostgreSQL whatever the list's length."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import Organization, User
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    organizations = [OrganizationFactory() for _ in range(3)]
    return [UserFactory(organization=organizations[n % 3]) for n in range(6)]


def test_the_same_rows_as_in_for_keys_foreign_keys_and_text(people):
    ids = [people[0].pk, people[3].pk, people[3].pk, None, 10**12]
    assert set(User.objects.filter(pk__any=ids)) == set(User.objects.filter(pk__in=ids))
    organizations = {people[1].organization_id, None}
    assert set(User.objects.filter(organization_id__any=organizations)) == set(
        User.objects.filter(organization_id__in=organizations)
    )
    names = [people[2].username, "nobody"]
    assert list(User.objects.filter(username__any=names)) == [people[2]]
    assert User.objects.filter(pk__any=[]).count() == 0
    assert User.objects.filter(pk__any=[None]).count() == 0
    assert Organization.objects.exclude(pk__any=[people[0].organization_id]).count() == 2


def test_updates_select_by_it_too(people):
    User.objects.filter(pk__any={people[0].pk, people[1].pk}).update(first_name="Ánh")
    assert set(User.objects.filter(first_name="Ánh")) == {people[0], people[1]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the array form is PostgreSQL's")
def test_one_statement_text_whatever_the_length(people):
    texts = set()
    for length in (1, 2, 5):
        with CaptureQueriesContext(connection) as queries:
            list(User.objects.filter(pk__any=[p.pk for p in people[:length]]))
        texts.add(queries.captured_queries[0]["sql"].split("ANY(")[0])
        assert (
            "= ANY(" in queries.captured_queries[0]["sql"]
            and " IN (" not in queries.captured_queries[0]["sql"]
        )
    assert len(texts) == 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=-5, max_value=10**15), max_size=12))
def test_any_list_of_keys_selects_what_in_selects(keys):
    assert list(User.objects.filter(pk__any=keys).order_by("pk").values_list("pk", flat=True)) == list(
        User.objects.filter(pk__in=keys).order_by("pk").values_list("pk", flat=True)
    )
