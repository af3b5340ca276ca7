"""Reads for accounts: tenant-scoped sign-in history."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import SignInEvent, User, UserSession

MANAGERS = (User.Role.OWNER, User.Role.ADMINISTRATOR)


def signin_list_for_user(*, user: User) -> QuerySet[SignInEvent]:
    return SignInEvent.objects.filter(user=user).select_related("user")


def signin_list_for_organization(*, viewer: User) -> QuerySet[SignInEvent]:
    """Every sign-in in the viewer's enterprise; only its owner and administrators may see it."""
    if viewer.organization_id is None or viewer.role not in MANAGERS:
        return SignInEvent.objects.none()
    return SignInEvent.objects.filter(organization_id=viewer.organization_id).select_related("user")


def session_list_for_user(*, user: User) -> QuerySet[UserSession]:
    """The user's portal sessions that still exist in the session store and have not expired."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=live)
