from __future__ import annotations

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from config.schedules import MANAGED_PREFIX, SCHEDULES, install_schedules


@pytest.mark.django_db
def test_migrate_installs_every_declared_schedule():
    names = set(PeriodicTask.objects.filter(name__startswith=MANAGED_PREFIX).values_list("name", flat=True))
    assert names == {MANAGED_PREFIX + name for name in SCHEDULES}


@pytest.mark.django_db
def test_installing_twice_changes_nothing_and_restores_edits():
    install_schedules()
    task = PeriodicTask.objects.get(name=MANAGED_PREFIX + "audit-seal-sweep")
    task.enabled = False
    task.task = "something.else"
    task.save()
    call_command("install_schedules", verbosity=0)
    call_command("install_schedules", verbosity=0)
    task.refresh_from_db()
    assert task.enabled is True
    assert task.task == "audit.tasks.audit_seal"
    assert task.interval.every == 10
    assert PeriodicTask.objects.filter(name__startswith=MANAGED_PREFIX).count() == len(SCHEDULES)


@pytest.mark.django_db
def test_a_schedule_no_longer_declared_is_disabled():
    install_schedules()
    stale = PeriodicTask.objects.get(name=MANAGED_PREFIX + "worker-heartbeat")
    stale.pk = None
    stale.name = MANAGED_PREFIX + "retired-job"
    stale.save()
    installed, disabled = install_schedules()
    assert (installed, disabled) == (len(SCHEDULES), 1)
    assert PeriodicTask.objects.get(name=MANAGED_PREFIX + "retired-job").enabled is False
