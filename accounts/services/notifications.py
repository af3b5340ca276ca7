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
    if email:
        notification_email_queue(notification=notification)
    return notification


def notification_email_queue(*, notification: Notification) -> None:
    """Mail the notification after the commit, from the notifications queue (if its user has an
    address)."""
    if notification.user.email:
        enqueue_on_commit(notify_by_email_task, notification.pk)


def notifications_send(*, items: list[tuple[User, str, dict]]) -> list[Notification]:
    """``notification_send`` for many ``(user, kind, params)`` at once: the rows inserted in one
    statement (the risk engine sends a few per risky sign-in), each email queued after the commit
    as one at a time would.

    A notice about a sign-in (``params["signin"]``) that its person already has a notice of (the
    new-device notice written at sign-in) replaces that notice, unread again, with the parameters
    of both: one sign-in is one notice carrying all its reasons. The earlier notice's email waits
    for the sign-in's evaluation (``accounts.services.mail.notification_email_wait``), so the two
    are one email; one mailed anyway (the evaluation came too late) is mailed again, as the new
    one may hold a question to answer."""
    signins = {params["signin"] for _user, _kind, params in items if params.get("signin") is not None}
    earlier = {}
    if signins:
        earlier = {
            (notice.user_id, notice.params["signin"]): notice
            for notice in Notification.objects.filter(
                user_id__in={user.pk for user, _kind, _params in items}, params__signin__in=list(signins)
            ).order_by("pk")
        }
    fresh, replaced = [], []
    for user, kind, params in items:
        notice = earlier.get((user.pk, params.get("signin")))
        if notice is None:
            fresh.append(Notification(user=user, kind=kind, params={"username": user.username, **params}))
            continue
        notice.kind, notice.params = kind, {**notice.params, **params}
        notice.read_at = notice.emailed_at = None
        replaced.append(notice)
    Notification.objects.bulk_update(replaced, ["kind", "params", "read_at", "emailed_at"])
    notifications = Notification.objects.bulk_create(fresh) + replaced
    for notification in notifications:
        notification_email_queue(notification=notification)
    return notifications


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
