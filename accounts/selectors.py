"""Reads for accounts, scoped to the reader: sign-in history, sessions, staff, notifications."""

from __future__ import annotations

import datetime

from django.contrib.sessions.models import Session
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import (
    Notification,
    SignInEvent,
    StaffInvitation,
    User,
    UserSession,
)
from core.queries import IdsFirst

MANAGERS = User.MANAGER_ROLES


def signin_list_for_user(*, user: User) -> QuerySet[SignInEvent]:
    # Newest first (the model's ordering) through the index signin_user_recent (user, -occurred_at).
    return SignInEvent.objects.filter(user=user).select_related("user")


def signin_list_for_organization(*, viewer: User) -> QuerySet[SignInEvent]:
    """Every sign-in in the viewer's enterprise; only its owner and administrators may see it."""
    if viewer.organization_id is None or viewer.role not in MANAGERS:
        return SignInEvent.objects.none()
    # Newest first through the index signin_org_recent (organization, -occurred_at): the page reads
    # its rows from the index in order; a large enterprise has hundreds of thousands.
    return SignInEvent.objects.filter(organization_id=viewer.organization_id).select_related("user")


def signin_pages(events: QuerySet[SignInEvent]) -> IdsFirst:
    """``events`` a page at a time: an enterprise has a handful of sign-ins or hundreds of
    thousands, so the page's ids are planned for this one (core.queries.IdsFirst)."""
    return IdsFirst(events, rows=SignInEvent.objects.select_related("user"))


def session_list_for_user(*, user: User) -> QuerySet[UserSession]:
    """The user's portal sessions that still exist in the session store and have not expired."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=live)


def staff_list(*, viewer: User) -> QuerySet[User]:
    """Everyone in the viewer's enterprise, for its owner and administrators; nothing for others."""
    if not viewer.is_manager:
        return User.objects.none()
    return User.objects.filter(organization_id=viewer.organization_id).order_by(
        "-is_active", "last_name", "pk"
    )


def staff_member(*, viewer: User, pk: int) -> User | None:
    """A member of the viewer's own enterprise, or ``None``: another enterprise's people are not found."""
    return staff_list(viewer=viewer).filter(pk=pk).first()


def invitation_list(*, viewer: User) -> QuerySet[StaffInvitation]:
    if not viewer.is_manager:
        return StaffInvitation.objects.none()
    return StaffInvitation.objects.filter(
        organization_id=viewer.organization_id, status=StaffInvitation.Status.PENDING
    ).select_related("invited_by")


def officers_with_permission(*, permission: str) -> QuerySet[User]:
    """Active, unsuspended customs officers whose groups (or own permissions, or superuser status)
    grant ``permission`` ("app_label.codename"), by username: who may take a decision in the
    console, found by what the console checks rather than by group names, which the officers app
    owns."""
    return (
        User.objects.with_perm(permission, backend="accounts.backends.AccountBackend")
        .filter(role=User.Role.OFFICER, suspended_at__isnull=True)
        .distinct()  # one row per officer, though several of their groups grant it
        .order_by("username")
    )


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_notification_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def signins_per_day(*, since: datetime.date) -> list[tuple[datetime.date, str, str, int]]:
    """Sign-ins per local day on every channel: ``(day, channel, outcome, count)`` (officer dashboard)."""
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=timezone.get_current_timezone())
    rows = (
        SignInEvent.objects.filter(occurred_at__gte=start)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "channel", "outcome")
        .annotate(count=Count("id"))
        .order_by("day", "channel", "outcome")
    )
    return list(rows)
