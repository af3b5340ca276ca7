"""Reads for accounts: tenant-scoped sign-in history."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import SignInEvent, User

MANAGERS = (User.Role.OWNER, User.Role.ADMINISTRATOR)


def signin_list_for_user(*, user: User) -> QuerySet[SignInEvent]:
    return SignInEvent.objects.filter(user=user).select_related("user")


def signin_list_for_organization(*, viewer: User) -> QuerySet[SignInEvent]:
    """Every sign-in in the viewer's enterprise; only its owner and administrators may see it."""
    if viewer.organization_id is None or viewer.role not in MANAGERS:
        return SignInEvent.objects.none()
    return SignInEvent.objects.filter(organization_id=viewer.organization_id).select_related("user")
