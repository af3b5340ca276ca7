"""Celery entry points of the accounts app."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.services.breaches import password_breach_check
from accounts.services.inactivity import accounts_suspend_inactive
from accounts.services.mail import notification_email, notification_email_wait
from core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


@shared_task(
    name="accounts.tasks.notify_by_email",
    bind=True,
    acks_late=True,
    autoretry_for=(OSError,),  # SMTP errors are OSErrors
    max_retries=5,
    default_retry_delay=60,
)
def notify_by_email_task(self, notification_id: int) -> bool:
    """Carries the notification's id only; the text is rendered from the row. A notice about a
    sign-in not evaluated yet is put back on the queue for a few seconds
    (``notification_email_wait``): a fresh message, so the waits do not use up the SMTP retries.
    Run eagerly it never waits: the sign-in's evaluation was queued before this email
    (``signin_record``), so it has already run."""
    wait = 0.0 if self.request.is_eager else notification_email_wait(notification_id=notification_id)
    if wait > 0:
        try:
            notify_by_email_task.apply_async(args=(notification_id,), countdown=wait)
            return False
        except Exception:
            # The broker refused the message: mailed now rather than never.
            logger.exception("could not put notification %s back to wait; mailing it now", notification_id)
    return notification_email(notification_id=notification_id)


@shared_task(name="accounts.tasks.evaluate_password_breach", acks_late=True, max_retries=3)
def evaluate_password_breach_task(user_id: int, sha1: str, changed_at: str) -> bool:
    """Gets the password's SHA-1 only, never the password (DESIGN §5 rule 4). The user is told by
    email as ``notification_send`` would: the mail task is queued here, since the services that
    queue it (``accounts.services.notifications``) import this module."""
    notification = password_breach_check(user_id=user_id, sha1=sha1, changed_at=changed_at)
    if notification is None:
        return False
    if notification.user.email:
        enqueue_on_commit(notify_by_email_task, notification.pk)
    return True


@shared_task(name="accounts.tasks.accounts_suspend_inactive", acks_late=True)
def accounts_suspend_inactive_task() -> int:
    return accounts_suspend_inactive()
