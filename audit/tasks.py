"""Celery entry points of the audit trail (routed to the ``audit`` queue)."""

from __future__ import annotations

import contextlib

from celery import shared_task
from django.core.cache import cache

from audit.services.sealing import SEAL_QUEUED_KEY, audit_seal


@shared_task(name="audit.tasks.audit_seal", acks_late=True, time_limit=600, soft_time_limit=540)
def audit_seal_task() -> dict:
    """After-commit trigger and the once-a-minute sweep; safe to run any number of times."""
    # Cleared before sealing, so an event committed from now on queues a fresh run.
    # The lock in audit_seal, not the cache, is what keeps sealing correct.
    with contextlib.suppress(Exception):
        cache.delete(SEAL_QUEUED_KEY)
    result = audit_seal()
    return {"sealed": result.sealed, "checkpoints": result.checkpoints, "tree_size": result.tree_size}
