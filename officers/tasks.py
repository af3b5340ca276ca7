"""Celery entry points of the officers' app."""

from __future__ import annotations

from celery import shared_task

from officers.services import compliance


@shared_task(name="officers.tasks.compliance_classify_all", acks_late=True)
def compliance_classify_all_task() -> dict:
    """Nightly; idempotent (a re-run recomputes the same levels and records nothing new)."""
    return compliance.compliance_classify_all()
