"""How long after its event a receipt can be had (bench/audit.py --latency): on the embedded
default, a client polling the receipt endpoint as the 409 tells it to; with a real worker and beat,
the sweep closing the due checkpoint. Events are recorded one at a time on a quiet system, the
worst case: no later event's seal closes the checkpoint for them."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.25


# Who asks does not change the time a receipt takes; an officer sees the whole of it.
OFFICER = types.SimpleNamespace(is_officer=True, organization_id=None)


def _record_one():
    from django.db import transaction

    from audit.models import Action
    from audit.services.events import audit_event_record

    with transaction.atomic():
        return audit_event_record(action=Action.SIGNIN_FAILED, actor=None, data={"bench": "receipt-latency"})


def _wait_for_receipt(event, ask) -> float:
    from audit.models import AuditEvent
    from audit.services.sealing import AuditNotSealed
    from core.errors import ApplicationError

    started = time.monotonic()
    while True:
        try:
            ask(AuditEvent.objects.get(pk=event.pk))  # as a request would load it: sealed or not yet
            return time.monotonic() - started
        except (ApplicationError, AuditNotSealed):
            time.sleep(POLL_SECONDS)
        if time.monotonic() - started > 600:
            raise RuntimeError("no receipt after 10 minutes")


def _report(label: str, seconds: list[float], bound: float) -> None:
    seconds = sorted(seconds)
    print(
        f"receipt latency, {label:<28} p50 {statistics.median(seconds):5.1f} s, max {seconds[-1]:5.1f} s"
        f" over {len(seconds)} events   bound {bound:.0f} s  ratio {bound / seconds[-1]:.2f}"
    )


def _embedded(count: int) -> None:
    from django.conf import settings

    from audit.services.sealing import audit_receipt_sealing_first, audit_seal
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = app.conf.task_always_eager = True
    settings.AUDIT_CHECKPOINT_SECONDS = 5  # the embedded default
    audit_seal()
    latencies = [
        _wait_for_receipt(
            _record_one(), lambda event: audit_receipt_sealing_first(event=event, reader=OFFICER)
        )
        for _ in range(count)
    ]
    _report("make run (eager, 5 s)", latencies, settings.AUDIT_CHECKPOINT_SECONDS + 1)


def _with_workers(count: int, checkpoint_seconds: int) -> None:
    from django.conf import settings

    from audit.selectors import audit_receipt_build
    from config.celery import QUEUES, app
    from config.schedules import SCHEDULES

    settings.CELERY_TASK_ALWAYS_EAGER = app.conf.task_always_eager = False
    sweep = SCHEDULES["audit-seal-sweep"].every.total_seconds()
    environment = os.environ | {"PYTHONUNBUFFERED": "1"}
    environment.pop("AUDIT_CHECKPOINT_SECONDS", None)
    with tempfile.TemporaryDirectory() as scratch, Path(scratch, "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-Q", ",".join(QUEUES),
             "-s", str(Path(scratch, "beat-schedule")), "--pool", "threads", "--concurrency", "2",
             "--without-gossip", "--without-mingle", "-l", "WARNING"],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not app.control.ping(timeout=0.5):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(Path(scratch, "worker.log").read_text()[-3000:])
            latencies = []
            for _ in range(count):
                latencies.append(
                    _wait_for_receipt(
                        _record_one(), lambda event: audit_receipt_build(event=event, disclose_network=True)
                    )
                )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    _report(f"workers ({checkpoint_seconds} s + {sweep:.0f} s sweep)", latencies, checkpoint_seconds + sweep)


def measure(count: int) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if "bench" not in name or not settings.REDIS_URL:
        print("receipt latency needs a database whose name contains 'bench' and REDIS_URL (a real broker)")
        return 2
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {name}; events one at a time on a quiet system: {count}")
    checkpoint_seconds = settings.AUDIT_CHECKPOINT_SECONDS  # what the worker started here reads
    _embedded(count)
    _with_workers(count, checkpoint_seconds)
    return 0
