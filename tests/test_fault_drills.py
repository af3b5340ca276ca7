"""Fault drills against real services (issue "Proof under real conditions"): run in CI on
PostgreSQL + Redis, skipped elsewhere. Each drill uses its own Redis database, so the suite's own
worker never takes its messages."""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from audit.models import Action, AuditEvent, AuditSealState
from audit.services.events import audit_event_record
from audit.verification import audit_verify
from config.celery import QUEUE_AUDIT
from config.celery import app as celery_app
from tests.cast import filing_body
from tests.conftest import _database_url_for_worker

ROOT = Path(__file__).resolve().parents[1]

# real_worker: tasks are published, not run eagerly in the test.
pytestmark = [pytest.mark.services, pytest.mark.real_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def drill_broker():
    """A Redis database of the drill's own (the one after the suite's)."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("fault drills need PostgreSQL and Redis (DATABASE_URL and REDIS_URL)")
    base, _, number = settings.REDIS_URL.rpartition("/")
    url = f"{base}/{(int(number or 0) + 1) % 16}"
    with celery_app.connection_for_write(url) as conn:
        celery_app.control.purge(connection=conn)
    return url


def _worker(broker_url: str, log: Path, **env) -> subprocess.Popen:
    environment = os.environ | {
        "DATABASE_URL": _database_url_for_worker(),
        "REDIS_URL": broker_url,
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
    } | env  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", QUEUE_AUDIT, "--pool", "solo",
             "-n", f"drill-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _sealed() -> int:
    return AuditEvent.objects.filter(position__isnull=False).count()


def _wait(predicate, timeout: float, log: Path, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout}s; worker log:\n{log.read_text()[-3000:]}")


def test_a_worker_killed_mid_task_has_its_task_redelivered_and_the_work_done_once(
    drill_broker, tmp_path, monkeypatch
):
    events = 3000
    # Only the drill's workers may seal these: no after-commit message to the suite's broker.
    monkeypatch.setattr("audit.services.events._queue_seal", lambda: None)
    with transaction.atomic():
        for index in range(events):
            audit_event_record(action=Action.ORGANIZATION_SETTINGS_CHANGED, actor=None, data={"n": index})
    log = tmp_path / "workers.log"
    # Small sealing transactions, so the first worker is killed with part of the work committed.
    first = _worker(drill_broker, log, AUDIT_SEAL_BATCH="20")
    try:
        with celery_app.connection_for_write(drill_broker) as conn:
            celery_app.send_task("audit.tasks.audit_seal", queue=QUEUE_AUDIT, connection=conn)
        _wait(lambda: _sealed() > 0, 60, log, "the first worker never started sealing")
        first.send_signal(signal.SIGKILL)  # as the kernel's OOM killer would: no chance to ack
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    partly = _sealed()
    assert 0 < partly < events, "the drill needs the worker killed mid-task"
    # The message was never acknowledged: once its visibility timeout passes, another worker gets it.
    time.sleep(3.5)
    second = _worker(drill_broker, log, AUDIT_SEAL_BATCH="20", TASK_VISIBILITY_TIMEOUT="3")
    try:
        _wait(lambda: _sealed() == events, 90, log, "the redelivered task did not finish the work")
    finally:
        second.terminate()
        second.wait(timeout=20)
    # Done once: every event sealed at exactly one position, the tree as long as the log, and the
    # whole trail verifies.
    positions = list(AuditEvent.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(events))
    assert AuditSealState.objects.get().tree_size == events
    report = audit_verify()
    assert report.ok and report.unsealed == 0 and report.events == events


def test_the_site_answers_again_at_once_when_postgresql_drops_its_connections(drill_broker, tmp_path):
    """What a PostgreSQL restart does to a running site: every connection it held is gone. The
    next request must not fail (CONN_HEALTH_CHECKS reconnects), and no restart of the site is
    needed. (This drill runs everywhere; the real restart below only where the server may be
    restarted.)"""
    url = "/api/v1/brokers/"
    with _site(tmp_path, drill_broker) as (server, client, log):
        _wait(lambda: _answers(client, url) == 200, 30, log, "the site did not start")
        assert _answers(client, url) == 200  # the worker now holds a persistent connection
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            (terminated,) = cursor.fetchone()
        assert terminated >= 1, "the site held no connection: the drill would prove nothing"
        statuses = [_answers(client, url) for _ in range(5)]
        assert statuses == [200] * 5, log.read_text()[-3000:]
        assert server.poll() is None  # the same process, not restarted


@contextlib.contextmanager
def _site(tmp_path: Path, broker_url: str):
    """A gunicorn process (one sync worker) serving the site against the test database, with
    production settings (``DEBUG=false``) but plain HTTP."""
    port = 18000 + os.getpid() % 1000
    log = tmp_path / "gunicorn.log"
    key_file, static_root = tmp_path / "audit-signing-key.pem", tmp_path / "static"
    environment = os.environ | {
        "DATABASE_URL": _database_url_for_worker(), "REDIS_URL": broker_url, "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64), "AUDIT_SIGNING_KEY_FILE": str(key_file),
        "EMAIL_URL": "smtp://127.0.0.1:2525",
        "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false",
        "ALLOWED_HOSTS": "127.0.0.1", "DATA_DIR": str(tmp_path), "STATIC_ROOT": str(static_root),
    }  # fmt: skip
    if not key_file.exists():  # what a deployment prepares: the audit key and the static files
        for command, env in (
            (["audit_keygen", "--out", str(key_file)], os.environ | {"DEBUG": "true"}),
            (["collectstatic", "--noinput"], environment),
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
            )
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-w", "1",
             "-b", f"127.0.0.1:{port}"],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield server, ("127.0.0.1", port), log
    finally:
        server.terminate()
        server.wait(timeout=20)


def _postgresql_cluster() -> list[str]:
    """``pg_ctlcluster`` arguments for the local cluster serving the tests, when there is one this
    process may restart: CI owns its machine and says so (FAULT_DRILL_RESTART_POSTGRES=true); on a
    developer's machine the server is shared, and restarting it would cut everyone off."""
    if os.environ.get("FAULT_DRILL_RESTART_POSTGRES") != "true":
        pytest.skip("set FAULT_DRILL_RESTART_POSTGRES=true to let the drill restart PostgreSQL (CI does)")
    if not shutil.which("pg_lsclusters"):
        pytest.fail("FAULT_DRILL_RESTART_POSTGRES=true, but pg_lsclusters is not installed")
    port = str(connection.settings_dict.get("PORT") or 5432)
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True)
    for version, name, cluster_port, *_ in (line.split() for line in listing.stdout.splitlines()):
        if cluster_port == port:
            return ["pg_ctlcluster", "--skip-systemctl-redirect", version, name]
    pytest.fail(f"FAULT_DRILL_RESTART_POSTGRES=true, but no local cluster listens on port {port}")


def test_the_site_answers_again_within_seconds_of_a_postgresql_restart(drill_broker, tmp_path):
    """A real restart of the server (stop, start): while it is down the API answers 503
    ``service_unavailable`` with ``Retry-After``, a portal page 503 too, and the health check says
    so; once it is up again the same site process answers within seconds,
    without being restarted, and a write (a sign-in event) goes through."""
    cluster = _postgresql_cluster()
    url = "/api/v1/brokers/"
    with _site(tmp_path, drill_broker) as (server, address, log):
        _wait(lambda: _answers(address, url) == 200, 30, log, "the site did not start")
        assert _answers(address, url) == 200  # the worker now holds a persistent connection
        subprocess.run([*cluster, "stop", "-m", "fast"], check=True, capture_output=True, timeout=60)
        try:
            status, headers, body = _fetch(address, url)
            assert (status, headers.get("Retry-After")) == (503, "5"), (status, body[:300])
            assert json.loads(body)["code"] == "service_unavailable"
            status, headers, body = _fetch(address, "/brokers/")
            assert (status, headers.get("Retry-After")) == (503, "5"), (status, body[:300])
            assert _database_health(address) is False
        finally:
            subprocess.run([*cluster, "start"], check=True, capture_output=True, timeout=60)
            back_at = time.monotonic()
        connection.close()  # this process's own connection died with the server too
        _wait(lambda: _answers(address, url) == 200, 10, log, "the site did not answer again")
        recovered_in = time.monotonic() - back_at
        assert [_answers(address, url) for _ in range(5)] == [200] * 5, log.read_text()[-3000:]
        assert _database_health(address) is True
        response = _post_sign_in(address)
        assert response == 200  # the sign-in form answers; a failed sign-in is written as an event
        assert server.poll() is None  # the same process, not restarted
    print(f"site answered again {recovered_in:.2f} s after PostgreSQL was started")


def _database_health(address: tuple[str, int]) -> bool:
    connection_ = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection_.request("GET", "/healthz")
        return json.loads(connection_.getresponse().read())["checks"]["database"]["ok"]
    finally:
        connection_.close()


def _post_sign_in(address: tuple[str, int]) -> int | None:
    from accounts.models import SignInEvent

    before = SignInEvent.objects.count()
    connection_ = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection_.request("GET", "/accounts/login/")
        page = connection_.getresponse()
        cookie = "; ".join(value.split(";")[0] for value in page.headers.get_all("Set-Cookie") or [])
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.read()).group(1).decode()
        connection_.request(
            "POST", "/accounts/login/",
            body=f"csrfmiddlewaretoken={token}&username=nobody-{uuid.uuid4().hex[:6]}&password=wrong",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                     "Referer": f"http://{address[0]}:{address[1]}/accounts/login/"},
        )  # fmt: skip
        status = connection_.getresponse().status
    finally:
        connection_.close()
    assert SignInEvent.objects.count() == before + 1, "the failed sign-in was not recorded"
    return status


def _fetch(address: tuple[str, int], path: str) -> tuple[int, dict, bytes]:
    connection_ = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection_.request("GET", path)
        response = connection_.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection_.close()


def _answers(address: tuple[str, int], path: str) -> int | None:
    connection_ = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection_.request("GET", path)
        return connection_.getresponse().status
    except OSError:
        return None
    finally:
        connection_.close()


@contextlib.contextmanager
def redis_stopped(settings):
    """Redis gone for this process: its Celery publisher and its cache point at a closed port (the
    suite's worker keeps its own connection, as a worker on another machine would)."""
    from tests.helpers import UNREACHABLE_REDIS, cache_unreachable
    from tests.risk.test_worker import broker_at

    with cache_unreachable(settings), broker_at(UNREACHABLE_REDIS):
        yield


def test_with_redis_stopped_sign_ins_and_signatures_are_kept_and_derived_after_it_returns(
    real_worker,
    world,
    settings,
    caplog,
):
    from django.test import Client
    from django.urls import reverse

    from accounts.models import Notification, SignInEvent
    from brokers.services.api_keys import api_key_create
    from risk.tasks import evaluate_sign_ins_pending_task
    from signatures.models import Declaration, SignatureRecord
    from signatures.tasks import declarations_notice_task
    from tests.conftest import wait_until
    from tests.helpers import sign_in
    from tests.risk.test_worker import settle

    _key, secret = api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="ecus", scopes=["read", "declare"]
    )
    with redis_stopped(settings):
        # During the outage: a person signs in, and a broker's tool files a signed declaration.
        person = Client()
        assert sign_in(person, world.trader_owner.username).status_code == 302
        tool = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        filed = tool.post(reverse("api_declarations"), filing_body(world, world.broker_key, "7777"),
                          content_type="application/json")  # fmt: skip
        assert filed.status_code == 201, filed.content
    assert "could not enqueue" in caplog.text
    # No fact lost: all of it is in the database, waiting to be derived.
    signin = SignInEvent.objects.filter(user=world.trader_owner, outcome="succeeded").latest("id")
    assert signin.evaluated_at is None
    record = SignatureRecord.objects.get(declaration_number="7777")
    assert Declaration.objects.filter(number="7777").exists() and record.noticed_at is None
    assert AuditEvent.objects.filter(position__isnull=True).exists()

    # Redis is back: beat's sweeps run, and the worker derives everything.
    SignInEvent.objects.filter(evaluated_at__isnull=True).update(
        occurred_at=signin.occurred_at - datetime.timedelta(minutes=2)
    )
    evaluate_sign_ins_pending_task.delay()
    declarations_notice_task.delay()
    wait_until(lambda: not SignInEvent.objects.filter(evaluated_at__isnull=True).exists(), timeout=30)
    wait_until(
        lambda: SignatureRecord.objects.filter(pk=record.pk, noticed_at__isnull=False).exists(), timeout=30
    )
    assert Notification.objects.filter(user=world.trader_owner, kind="declaration_signed").exists()
    settle()  # seals every audit event, then waits for the worker to be idle
    assert not AuditEvent.objects.filter(position__isnull=True).exists()
