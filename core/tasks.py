"""The one helper every app uses to enqueue after commit."""

from __future__ import annotations

import logging
from functools import partial

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def publish_safely(task, *args, **kwargs) -> None:
    """Publish now; a broker outage is logged, never raised (the fact is committed and the
    task's periodic sweep will pick the work up)."""
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except Exception:
        logger.exception("could not enqueue %s; the periodic sweep will pick the work up", task.name)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Enqueue ``task`` once the current transaction commits (at once outside one).

    A broker outage is logged and swallowed: whatever the task derives is recomputed by its sweep.
    """
    transaction.on_commit(partial(publish_safely, task, *args, **kwargs))


def run_on_commit_without_beat(task) -> None:
    """For a sweep that the beat runs every few seconds: where tasks run eagerly (the embedded
    default, which has no beat) run it once the current transaction commits; with real workers do
    nothing, so a hot path publishes no message per request."""
    if current_app.conf.task_always_eager:
        transaction.on_commit(partial(publish_safely, task))
