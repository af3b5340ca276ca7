"""Recording while the sealer runs loses no event and seals none twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from django.db import close_old_connections, connection, transaction

from audit.models import Action, AuditEvent
from audit.services.events import audit_event_record
from audit.services.sealing import audit_seal
from audit.verification import audit_verify
from tests.conftest import ROOT, _database_url_for_worker

WRITERS = 4
EVENTS_PER_WRITER = 40


def _assert_sealed_once_and_contiguous(expected: int) -> None:
    audit_seal()
    positions = sorted(AuditEvent.objects.values_list("position", flat=True))
    assert len(positions) == expected
    assert positions == list(range(expected))
    report = audit_verify()
    assert report.ok, report.problems


@pytest.mark.django_db(transaction=True)
def test_threads_recording_while_sealers_run(settings):
    """On SQLite (and PostgreSQL) with one connection per thread."""
    settings.AUDIT_CHECKPOINT_EVENTS = 16
    settings.AUDIT_SEAL_BATCH = 7
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for n in range(EVENTS_PER_WRITER):
                with transaction.atomic():
                    audit_event_record(action=Action.ORGANIZATION_CREATED, data={"writer": index, "n": n})
                    if n % 5 == 0:
                        audit_event_record(action=Action.USER_CREATED, data={"writer": index, "n": n})
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
        finally:
            connection.close()

    def sealer() -> None:
        try:
            while not stop.wait(0.005):
                audit_seal()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in sealers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in sealers:
        thread.join()
    close_old_connections()
    assert errors == []
    _assert_sealed_once_and_contiguous(WRITERS * (EVENTS_PER_WRITER + EVENTS_PER_WRITER // 5))


RECORD_SCRIPT = """
import os
from django.db import transaction
from audit.models import Action
from audit.services.events import audit_event_record
index = int(os.environ["WRITER_INDEX"])
for n in range({count}):
    with transaction.atomic():
        audit_event_record(action=Action.ORGANIZATION_CREATED, data={{"process": index, "n": n}})
"""

SEAL_SCRIPT = """
import time
from audit.services.sealing import audit_seal
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    audit_seal()
    from audit.models import AuditEvent
    unsealed = AuditEvent.objects.filter(position__isnull=True).exists()
    if AuditEvent.objects.count() >= {total} and not unsealed:
        break
"""


@pytest.mark.django_db(transaction=True)
def test_processes_recording_while_sealer_processes_run():
    """PostgreSQL: separate processes, so the row lock, not the GIL, is what serialises sealers."""
    if connection.vendor != "postgresql":
        pytest.skip("separate processes share the test database on PostgreSQL only")
    count = 60
    total = WRITERS * count
    env = os.environ | {
        "DATABASE_URL": _database_url_for_worker(),
        "DEBUG": "true",
        "AUDIT_CHECKPOINT_EVENTS": "32",
        "AUDIT_SEAL_BATCH": "9",
    }
    env.pop("REDIS_URL", None)  # eager: each commit also seals inline, adding contention on purpose

    def start(script: str, **extra_env: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env=env | extra_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    sealers = [start(SEAL_SCRIPT.format(total=total)) for _ in range(2)]
    writers = [start(RECORD_SCRIPT.format(count=count), WRITER_INDEX=str(i)) for i in range(WRITERS)]
    try:
        for process in writers + sealers:
            _, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, stderr[-3000:]
    finally:
        for process in writers + sealers:
            process.kill()
    _assert_sealed_once_and_contiguous(total)
