"""Celery entry points of the brokers app."""

from __future__ import annotations

from celery import shared_task

from brokers.services.licences import licences_expire
from brokers.services.mandates import authorizations_sweep
from brokers.services.reports import operation_reports_sweep


@shared_task(name="brokers.tasks.operation_reports_sweep", acks_late=True)
def operation_reports_sweep_task() -> dict:
    """Idempotent (a period is recorded missing once), so a redelivery or an extra run is harmless."""
    return operation_reports_sweep()


@shared_task(name="brokers.tasks.authorizations_sweep", acks_late=True)
def authorizations_sweep_task() -> dict:
    """Mandate invitations' reminders and expiry, mandates past their last day; idempotent."""
    return authorizations_sweep()


@shared_task(name="brokers.tasks.licences_expire", acks_late=True)
def licences_expire_task() -> int:
    """Licences past their last day become expired; idempotent (an expired licence is skipped)."""
    return licences_expire()
