from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction

from config.celery import QUEUES
from config.celery import app as celery_app
from config.tasks import HEARTBEAT_CACHE_KEY, ping, worker_heartbeat
from core.tasks import enqueue_on_commit
from tests.conftest import wait_until


def test_celery_speaks_json_only_and_acknowledges_late():
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert {queue.name for queue in conf.task_queues} == {"default", "audit", "risk", "notifications"}


def _queue_of(task_name: str) -> str:
    route = celery_app.amqp.router.route({}, task_name)
    return route["queue"].name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("audit.tasks.audit_seal", "audit"),
        ("risk.tasks.evaluate_sign_in", "risk"),
        ("accounts.tasks.evaluate_password_breach", "risk"),
        ("accounts.tasks.notify_signin", "notifications"),
        ("config.tasks.ping", "default"),
    ],
)
def test_tasks_are_routed_to_their_queue(task_name, queue):
    assert _queue_of(task_name) == queue


def test_every_project_task_lands_on_a_declared_queue():
    celery_app.loader.import_default_modules()
    ours = [name for name in celery_app.tasks if not name.startswith("celery.")]
    assert "config.tasks.ping" in ours
    for name in ours:
        assert _queue_of(name) in QUEUES, name


def test_an_eager_round_trip_returns_the_result():
    assert ping.delay("hello").get(timeout=1) == "hello"


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_the_commit():
    cache.delete(HEARTBEAT_CACHE_KEY)
    with transaction.atomic():
        enqueue_on_commit(worker_heartbeat)
        assert cache.get(HEARTBEAT_CACHE_KEY) is None
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_drops_the_task_when_the_transaction_rolls_back():
    cache.delete(HEARTBEAT_CACHE_KEY)
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(worker_heartbeat)
        raise RuntimeError("roll back")
    assert cache.get(HEARTBEAT_CACHE_KEY) is None


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_never_fails_the_caller_when_the_broker_is_down(caplog):
    class Unpublishable:
        name = "tests.unpublishable"

        def apply_async(self, **_kwargs):
            raise ConnectionError("broker down")

    with transaction.atomic():
        enqueue_on_commit(Unpublishable())
    assert "could not enqueue tests.unpublishable" in caplog.text


@pytest.mark.real_worker
def test_a_real_worker_round_trip(real_worker):
    assert ping.delay("through-redis").get(timeout=20) == "through-redis"


@pytest.mark.real_worker
def test_a_real_worker_runs_a_task_enqueued_on_commit(real_worker):
    cache.delete(HEARTBEAT_CACHE_KEY)
    with transaction.atomic():
        enqueue_on_commit(worker_heartbeat)
    assert wait_until(lambda: cache.get(HEARTBEAT_CACHE_KEY))
