"""Celery entry points of the risk engine (the ``risk`` queue: tasks named ``evaluate_*``)."""

from __future__ import annotations

from celery import shared_task

from risk.services.evaluation import signin_evaluate_pending, signin_evaluate_with_backlog


@shared_task(name="risk.tasks.evaluate_sign_in", acks_late=True, max_retries=3, default_retry_delay=30)
def evaluate_sign_in_task(event_id: int) -> int:
    """Carries the sign-in's id only. Idempotent (the service claims the events), so a
    redelivery or the sweep running alongside does nothing twice. Returns how many sign-ins it
    evaluated (with the backlog it took along)."""
    return signin_evaluate_with_backlog(event_id=event_id).evaluated


@shared_task(name="risk.tasks.evaluate_sign_ins_pending", acks_late=True)
def evaluate_sign_ins_pending_task() -> int:
    return signin_evaluate_pending()
