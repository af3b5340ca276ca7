"""Celery entry points of the accounts app."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(name="accounts.tasks.evaluate_password_breach", acks_late=True, max_retries=3)
def evaluate_password_breach_task(user_id: int, sha1: str, changed_at: str) -> bool:
    """Gets the password's SHA-1 only, never the password (DESIGN §5 rule 4)."""
    return services.password_breach_check(user_id=user_id, sha1=sha1, changed_at=changed_at)


@shared_task(name="accounts.tasks.accounts_suspend_inactive", acks_late=True)
def accounts_suspend_inactive_task() -> int:
    return services.accounts_suspend_inactive()


@shared_task(
    name="accounts.tasks.notify_by_email",
    acks_late=True,
    autoretry_for=(OSError,),  # SMTP errors are OSErrors
    max_retries=5,
    default_retry_delay=60,
)
def notify_by_email_task(notification_id: int) -> bool:
    """Carries the notification's id only; the text is rendered from the row."""
    return services.notification_email(notification_id=notification_id)


@shared_task(name="accounts.tasks.evaluate_sign_in", acks_late=True, max_retries=3, default_retry_delay=30)
def evaluate_sign_in_task(event_id: int) -> int:
    """Carries the sign-in's id only. Idempotent (the service claims the events), so a
    redelivery or the sweep running alongside does nothing twice. Returns how many sign-ins it
    evaluated (with the backlog it took along)."""
    return services.signin_evaluate_with_backlog(event_id=event_id).evaluated


@shared_task(name="accounts.tasks.evaluate_sign_ins_pending", acks_late=True)
def evaluate_sign_ins_pending_task() -> int:
    return services.signin_evaluate_pending()
