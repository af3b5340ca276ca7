"""The Celery application.

Queues: ``audit`` (sealing), ``risk`` (sign-in and signature evaluation, tasks named ``evaluate_*``),
``notifications`` (mail and portal notices, tasks named ``notify_*``) and ``default``; the
routes below are the one place that says so.
Tasks are enqueued only after the transaction that produced their facts commits: use
``task.delay_on_commit(...)`` (or ``core.tasks.enqueue_on_commit``), never ``delay`` inside a
transaction.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

QUEUE_DEFAULT = "default"
QUEUE_AUDIT = "audit"
QUEUE_RISK = "risk"
QUEUE_NOTIFICATIONS = "notifications"
QUEUES = (QUEUE_DEFAULT, QUEUE_AUDIT, QUEUE_RISK, QUEUE_NOTIFICATIONS)

if Path(sys.argv[0]).name == "celery" or Path(sys.argv[0]).parent.name == "celery":
    # Started as `celery -A config …`: a bad environment gets the same one-line error as manage.py.
    from config.env import load_settings_or_exit

    load_settings_or_exit()

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in QUEUES]
# Which queue a task goes to is decided here, for every app at once.
app.conf.task_routes = {
    "audit.tasks.*": {"queue": QUEUE_AUDIT},
    "*.tasks.evaluate_*": {"queue": QUEUE_RISK},  # sign-ins, signatures, passwords
    "*.tasks.notify_*": {"queue": QUEUE_NOTIFICATIONS},
}
app.autodiscover_tasks()


@signals.before_task_publish.connect
def _carry_request_id(headers=None, **_kwargs) -> None:
    # The worker's log lines then carry the id of the request that caused the task.
    from core.context import current_context

    if headers is not None and "request_id" not in headers:
        headers["request_id"] = current_context().request_id


_bound_tokens: dict[str, object] = {}


@signals.task_prerun.connect
def _bind_task_context(task_id=None, task=None, **_kwargs) -> None:
    from core.context import Channel, RequestContext, current_context, push_context

    request_id = getattr(task.request, "request_id", None)
    if not request_id and task.request.is_eager:
        request_id = current_context().request_id
    context = RequestContext(request_id=request_id or f"task-{task_id}", channel=Channel.WORKER)
    _bound_tokens[task_id] = push_context(context)


@signals.task_postrun.connect
def _unbind_task_context(task_id=None, **_kwargs) -> None:
    from core.context import pop_context

    token = _bound_tokens.pop(task_id, None)
    if token is not None:
        pop_context(token)
