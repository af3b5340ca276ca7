"""accounts.backends.AccountBackend: an account's permissions, its own and its groups', in one
query, the same set as Django's ModelBackend gives."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from accounts.backends import AccountBackend
from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_own_and_group_permissions_in_one_query_as_django_gives_them(django_assert_num_queries):
    user = UserFactory()
    group = Group.objects.create(name="signature searchers")
    group.permissions.add(Permission.objects.get(codename="search_signatures"))
    group.permissions.add(Permission.objects.get(codename="view_flag"))
    user.groups.add(group, Group.objects.create(name="empty"))
    user.user_permissions.add(Permission.objects.get(codename="view_flag"))  # also via the group
    user.user_permissions.add(Permission.objects.get(codename="view_case"))
    fresh = _fresh(user)
    with django_assert_num_queries(1):
        mine = AccountBackend().get_all_permissions(fresh)
        assert AccountBackend().get_all_permissions(fresh) is mine  # kept for the request
    assert mine == ModelBackend().get_all_permissions(_fresh(user))
    assert mine == {"audit.search_signatures", "audit.view_flag", "audit.view_case"}
    assert fresh.has_perm("audit.search_signatures") and not fresh.has_perm("audit.change_flag")


def test_none_for_inactive_accounts_or_objects_and_all_for_superusers():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_case"))
    assert AccountBackend().get_all_permissions(_fresh(user), obj=user) == set()
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert AccountBackend().get_all_permissions(_fresh(user)) == set()
    admin = UserFactory(is_superuser=True)
    assert AccountBackend().get_all_permissions(_fresh(admin)) == ModelBackend().get_all_permissions(
        _fresh(admin)
    )
    assert len(AccountBackend().get_all_permissions(_fresh(admin))) == Permission.objects.count()


def test_a_user_without_groups_or_permissions_has_none():
    assert AccountBackend().get_all_permissions(_fresh(UserFactory())) == set()
