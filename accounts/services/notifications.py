"""Telling a person something about their account: a row in their portal list and, after the
commit, an email from the notifications queue (``accounts.services.mail`` sends it)."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import Notification, User
from accounts.tasks import notify_by_email_task
from core.tasks import enqueue_on_commit


def notification_send(*, user: User, kind: str, email: bool = True, **params) -> Notification:
    """Tell ``user`` something about their account: a row in their portal list and, after the
    commit, an email from the notifications queue. ``params`` must be harmless (no secrets, no ID
    numbers): they are stored and mailed."""
    notification = Notification.objects.create(
        user=user, kind=kind, params={"username": user.username, **params}
    )
    if email and user.email:
        enqueue_on_commit(notify_by_email_task, notification.pk)
    return notification


def notifications_send(*, items: list[tuple[User, str, dict]]) -> list[Notification]:
    """``notification_send`` for many ``(user, kind, params)`` at once: the rows inserted in one
    statement (the risk engine sends a few per risky sign-in), each email queued after the commit
    as one at a time would."""
    notifications = Notification.objects.bulk_create(
        Notification(user=user, kind=kind, params={"username": user.username, **params})
        for user, kind, params in items
    )
    for notification in notifications:
        if notification.user.email:
            enqueue_on_commit(notify_by_email_task, notification.pk)
    return notifications


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
