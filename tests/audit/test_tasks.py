from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services.events import audit_event_record
from audit.services.sealing import SEAL_QUEUED_KEY
from audit.tasks import audit_seal_task
from config.schedules import SCHEDULES
from tests.conftest import wait_until


def test_the_sweep_is_scheduled_every_ten_seconds_on_the_audit_queue():
    sweep = SCHEDULES["audit-seal-sweep"]
    assert (sweep.task, sweep.every.total_seconds(), sweep.queue) == ("audit.tasks.audit_seal", 10, "audit")
    assert audit_seal_task.name == sweep.task


@pytest.mark.django_db
def test_the_sweep_seals_events_whose_message_was_lost():
    # Inserted without the after-commit trigger: as if Redis had been down at the commit.
    AuditEvent(occurred_at=timezone.now(), action="organization.created", channel="system").save(
        force_insert=True
    )
    result = audit_seal_task.apply().get()
    assert result == {"sealed": 1, "checkpoints": [], "tree_size": 1}
    assert audit_seal_task.apply().get()["sealed"] == 0


@pytest.mark.django_db(transaction=True)
def test_one_queued_seal_serves_many_commits(monkeypatch):
    published = []
    monkeypatch.setattr(audit_seal_task, "apply_async", lambda *a, **k: published.append(1))
    cache.delete(SEAL_QUEUED_KEY)
    for _ in range(5):
        with transaction.atomic():
            audit_event_record(action=Action.ORGANIZATION_CREATED)
    assert published == [1]
    cache.delete(SEAL_QUEUED_KEY)


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_at_commit_keeps_the_fact(monkeypatch, caplog):
    def down(*_args, **_kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(audit_seal_task, "apply_async", down)
    cache.delete(SEAL_QUEUED_KEY)
    with transaction.atomic():
        audit_event_record(action=Action.ORGANIZATION_CREATED)
    assert AuditEvent.objects.filter(position__isnull=True).count() == 1
    assert "could not enqueue audit.tasks.audit_seal" in caplog.text
    cache.delete(SEAL_QUEUED_KEY)


@pytest.mark.real_worker
def test_a_real_worker_seals_what_services_commit(real_worker):
    cache.delete(SEAL_QUEUED_KEY)
    for n in range(5):
        with transaction.atomic():
            audit_event_record(action=Action.ORGANIZATION_CREATED, data={"n": n})
    assert wait_until(lambda: not AuditEvent.objects.filter(position__isnull=True).exists(), timeout=30)
    assert sorted(AuditEvent.objects.values_list("position", flat=True)) == [0, 1, 2, 3, 4]
