"""The risk engine through a real Celery worker and Redis (PostgreSQL and REDIS_URL only)."""

from __future__ import annotations

import contextlib
import datetime

import pytest
from django.core import signing
from django.test import Client

from accounts.middleware import DEVICE_COOKIE, DEVICE_COOKIE_SALT
from accounts.models import Notification, SignInEvent
from audit.models import AuditEvent, Flag
from config.celery import app as celery_app
from risk.tasks import evaluate_sign_ins_pending_task
from tests.conftest import wait_until
from tests.helpers import UNREACHABLE_REDIS, sign_in
from tests.risk.conftest import BROKER_DEVICE, record

CLOSED_PORT_BROKER = UNREACHABLE_REDIS


def on_device(client: Client, device_id: str) -> Client:
    """The browser carries this device's signed cookie (as the broker's PC would)."""
    signer = signing.get_cookie_signer(salt=DEVICE_COOKIE + DEVICE_COOKIE_SALT)
    client.cookies[DEVICE_COOKIE] = signer.sign(device_id)
    return client


@contextlib.contextmanager
def broker_at(url: str):
    """Point this process's publisher at another broker (the worker keeps its own)."""

    def reset():
        # Dropped, not closed: kombu's pools are shared per URL, and the real one is used again.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    previous = celery_app.conf.broker_url
    reset()
    celery_app.conf.broker_url = url
    try:
        yield
    finally:
        reset()
        celery_app.conf.broker_url = previous


def settle() -> None:
    """Wait for the work the evaluation queued (mail, then a final sealing of the audit events)
    so that the test database is not flushed under a busy worker."""
    from django.core.cache import cache

    from audit.services.sealing import SEAL_QUEUED_KEY
    from audit.tasks import audit_seal_task

    wait_until(
        lambda: not Notification.objects.filter(emailed_at__isnull=True).exclude(user__email="").exists(),
        timeout=30,
    )
    cache.delete(SEAL_QUEUED_KEY)  # sealing is queued at most every 30 s; this test wants it now
    audit_seal_task.delay()
    wait_until(lambda: not AuditEvent.objects.filter(position__isnull=True).exists(), timeout=30)
    # Sealing may still be closing a checkpoint, and earlier tests may have left work: the flush
    # that follows would deadlock with a task in flight. Idle twice in a row is idle.
    wait_until(lambda: _worker_idle() and _worker_idle(), timeout=30)
    cache.delete(SEAL_QUEUED_KEY)  # the next tests expect their commits to queue sealing


def _worker_idle() -> bool:
    inspector = celery_app.control.inspect(timeout=1)
    busy = [*(inspector.active() or {}).values(), *(inspector.reserved() or {}).values()]
    return not any(busy)


@pytest.mark.real_worker
def test_a_trader_on_a_device_a_brokers_staff_used_yesterday_is_flagged_by_the_worker(
    real_worker, trader, trader_signer, broker_agent
):
    record(broker_agent, ago=datetime.timedelta(days=1), device_id=BROKER_DEVICE, ip="198.51.100.20")
    record(trader_signer, ago=datetime.timedelta(days=3))
    client = on_device(Client(), BROKER_DEVICE)
    assert sign_in(client, "trader.signer", REMOTE_ADDR="198.51.100.21").status_code == 302
    event = SignInEvent.objects.get(user=trader_signer, device_id=BROKER_DEVICE)
    flag = wait_until(lambda: Flag.objects.filter(kind="foreign_party_device").first(), timeout=30)
    assert (flag.severity, flag.user, flag.organization) == ("high", trader_signer, trader)
    assert flag.evidence["signin"] == str(event.pk)
    event.refresh_from_db()
    assert event.evaluated_at is not None and event.risk_score >= 70
    settle()


@pytest.mark.real_worker
def test_with_the_broker_unreachable_sign_in_succeeds_and_the_sweep_evaluates_later(
    real_worker, trader_signer, caplog
):
    client = Client()
    with broker_at(CLOSED_PORT_BROKER):
        response = sign_in(client, "trader.signer")
        assert response.status_code == 302
        assert client.get("/accounts/me/").status_code == 200
    event = SignInEvent.objects.get(user=trader_signer, outcome="succeeded")
    assert event.evaluated_at is None
    assert "could not enqueue risk.tasks.evaluate_sign_in" in caplog.text
    # A minute later (the sweep leaves fresh events to their own message), beat's sweep runs.
    SignInEvent.objects.filter(pk=event.pk).update(
        occurred_at=event.occurred_at - datetime.timedelta(minutes=2)
    )
    evaluate_sign_ins_pending_task.delay()
    wait_until(
        lambda: SignInEvent.objects.filter(pk=event.pk, evaluated_at__isnull=False).exists(), timeout=30
    )
    settle()


def emails_to(mail_dir, address: str, *, besides: set) -> int:
    """How many emails to ``address`` the worker wrote (one file each) other than ``besides``."""
    return sum(
        f"To: {address}" in path.read_text(errors="replace")
        for path in mail_dir.iterdir()
        if path not in besides
    )


@pytest.mark.real_worker
@pytest.mark.parametrize("flagged", [True, False], ids=["flagged", "plain"])
def test_a_new_device_sign_in_sends_one_email_through_the_workers(
    real_worker, trader, trader_signer, broker_agent, flagged
):
    earlier = set(real_worker.mail_dir.iterdir())
    record(broker_agent, ago=datetime.timedelta(days=1), device_id=BROKER_DEVICE, ip="198.51.100.20")
    record(trader_signer, ago=datetime.timedelta(days=3))
    device, ip = (BROKER_DEVICE, "198.51.100.21") if flagged else ("another-device", "203.0.113.7")
    # Not asserted: the worker's high-severity response may end the new session before the sign-in's
    # response saves it. The sign-in and its notice are committed either way.
    sign_in(on_device(Client(), device), "trader.signer", REMOTE_ADDR=ip)
    notice = Notification.objects.get(user=trader_signer)
    wait_until(
        lambda: Notification.objects.filter(pk=notice.pk, emailed_at__isnull=False).exists(), timeout=30
    )
    assert SignInEvent.objects.get(pk=notice.params["signin"]).evaluated_at is not None
    assert Notification.objects.get(pk=notice.pk).kind == ("signin_review" if flagged else "new_device")
    # Nothing left waiting to be mailed again (a message put back with a countdown is scheduled).
    wait_until(
        lambda: not any((celery_app.control.inspect(timeout=1).scheduled() or {}).values()), timeout=30
    )
    settle()
    assert emails_to(real_worker.mail_dir, trader_signer.email, besides=earlier) == 1
