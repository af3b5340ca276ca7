"""core.prepared: a queryset compiled once answers exactly as the ORM does, for any values."""

from __future__ import annotations

import pytest
from django.db.models import Count, Exists, OuterRef

from accounts.models import Organization, User
from core.prepared import PreparedQuery
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _members(organization_name, role):
    return (
        User.objects.select_related("organization")
        .filter(organization__name=organization_name, role=role)
        .annotate(
            has_colleague=Exists(
                User.objects.filter(organization=OuterRef("organization")).exclude(pk=OuterRef("pk"))
            )
        )
        .order_by("pk")
    )


members = PreparedQuery(_members, organization_name=str, role=str)


def test_answers_as_the_orm_does_for_each_call():
    first, second = OrganizationFactory(name="Hòa Bình"), OrganizationFactory(name="Sao Mai")
    alone = UserFactory(organization=second, role="signer")
    pair = [UserFactory(organization=first, role="signer") for _ in range(2)]
    UserFactory(organization=first, role="viewer")
    for name, expected in (("Hòa Bình", pair), ("Sao Mai", [alone]), ("nobody", [])):
        prepared = members(organization_name=name, role="signer")
        orm = list(_members(name, "signer"))
        assert [user.pk for user in prepared] == [user.pk for user in orm] == [user.pk for user in expected]
        for got, want in zip(prepared, orm, strict=True):
            assert (got.username, got.date_joined, got.has_colleague) == (
                want.username,
                want.date_joined,
                want.has_colleague,
            )
            # select_related filled the organisation: reading it costs no query.
            assert got.organization.name == name


def test_a_related_object_needs_no_query(django_assert_num_queries):
    organization = OrganizationFactory(name="Hòa Bình")
    UserFactory(organization=organization, role="signer")
    with django_assert_num_queries(1):
        (user,) = members(organization_name="Hòa Bình", role="signer")
        assert user.organization.tax_code == organization.tax_code


def test_integer_parameters_and_aggregates():
    organization = OrganizationFactory()
    UserFactory.create_batch(3, organization=organization)
    counted = PreparedQuery(
        lambda pk: Organization.objects.filter(pk=pk).annotate(people=Count("members")), pk=int
    )
    (found,) = counted(pk=organization.pk)
    assert (found.pk, found.people) == (organization.pk, 3)
    assert counted(pk=organization.pk + 1000) == []


def test_values_are_bound_not_spliced_into_the_sql():
    OrganizationFactory(name="Hòa Bình")
    hostile = "x' OR '1'='1"
    assert members(organization_name=hostile, role="signer") == []


def test_refuses_what_it_cannot_bind_faithfully():
    with pytest.raises(TypeError):
        PreparedQuery(lambda day: Organization.objects.filter(created_at__date=day), day=object)
    # A lookup that rewrites its value (icontains wraps it in %...%) cannot be prepared.
    rewritten = PreparedQuery(lambda name: Organization.objects.filter(name__icontains=name), name=str)
    with pytest.raises(ValueError):
        rewritten(name="Bình")
    with pytest.raises(TypeError):
        members(organization_name="Hòa Bình")
