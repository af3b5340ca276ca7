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
