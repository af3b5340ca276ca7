"""The fixed cast (and, in ``world``, the cast at work: tests/cast.py), and the Celery modes tests
run in.

Tests run tasks eagerly (in the test's own thread) unless marked ``real_worker``: those need
``REDIS_URL`` and a file-backed database and get a real ``celery worker`` process started
against the test database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from celery.result import allow_join_result
from django.conf import settings
from django.db import connection
from hypothesis import settings as hypothesis_settings

from accounts.models import Organization, User
from config.celery import QUEUES
from config.celery import app as celery_app
from tests.cast import World
from tests.factories import (
    AgentStaffFactory,
    BrokerLicenceFactory,
    OfficerFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.fuzz import examples
from tests.signatures.pki_factory import Pki

ROOT = Path(__file__).resolve().parent.parent

# CI's fuzz pass (tests/fuzz.py): more examples from the seed CI draws, and no deadline, since a
# slow example on a busy machine is not the failure the pass is looking for.
hypothesis_settings.register_profile(
    "ci-fuzz",
    max_examples=examples(hypothesis_settings.get_profile("default").max_examples),
    derandomize=False,
    deadline=None,
    print_blob=True,
)
if "HYPOTHESIS_PROFILE" in os.environ:
    hypothesis_settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


# Django empties every table between transactional tests with one TRUNCATE, which the audit
# tables refuse (audit.models.no_truncate). The test run alone lets its own emptying through, with
# the superuser's switch that turns triggers off for a session, as an operator holding the owner
# role could drop them; the tests of the guard truncate without it.
@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_truncate_guard():
    from django.core.management.commands import flush
    from django.db import connections

    original = flush.Command.handle

    def handle(self, *args, **options):
        target = connections[options.get("database") or "default"]
        if target.vendor != "postgresql":
            return original(self, *args, **options)
        with target.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            return original(self, *args, **options)
        finally:
            with target.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


# --- the fixed cast ------------------------------------------------------------------------


@pytest.fixture
def trader(db) -> Organization:
    return OrganizationFactory(kind=Organization.Kind.TRADER, name="Công ty TNHH Hòa Bình")


@pytest.fixture
def trader_owner(trader) -> User:
    return UserFactory(organization=trader, role=User.Role.OWNER, username="trader.owner")


@pytest.fixture
def trader_signer(trader) -> User:
    return UserFactory(organization=trader, role=User.Role.SIGNER, username="trader.signer")


@pytest.fixture
def broker_licence(db):
    return BrokerLicenceFactory(organization__name="Công ty CP Đại lý Sao Mai")


@pytest.fixture
def broker(broker_licence) -> Organization:
    return broker_licence.organization


@pytest.fixture
def broker_owner(broker) -> User:
    return UserFactory(organization=broker, role=User.Role.OWNER, username="broker.owner")


@pytest.fixture
def broker_agent(broker_licence) -> User:
    return AgentStaffFactory(licence=broker_licence, user__username="broker.agent").user


@pytest.fixture
def outsider(db) -> User:
    """The owner of another trader, who must never see the cast's data."""
    return UserFactory(
        organization=OrganizationFactory(name="Công ty Người Ngoài"),
        role=User.Role.OWNER,
        username="outsider",
    )


@pytest.fixture
def officer(db) -> User:
    return OfficerFactory(username="officer")


@pytest.fixture(scope="session")
def pki() -> Pki:
    """A throw-away CA and intermediate the cast's certificates come from; made once per run."""
    return Pki()


@pytest.fixture
def world(pki, trader, trader_owner, trader_signer, broker, broker_owner, broker_agent, officer) -> World:
    """The cast with bound certificates and an import mandate from the trader to the broker."""
    return World(pki, trader, trader_owner, trader_signer, broker, broker_owner, broker_agent, officer)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is deliberately slow; the rules under test do not depend on which
    # hasher stores the hash, so tests use a fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _limits_out_of_the_way(settings):
    # Counts of refusals and failed keys live in the cache, which tests share; only the tests of
    # those limits lower them (and reset the counts they use).
    settings.SIGNING_REFUSALS_PER_MINUTE = 10**9
    settings.API_KEY_FAILURES_PER_MINUTE = 10**9
    settings.KNOWN_FACT_FAILURES_PER_MINUTE = 10**9


@pytest.fixture(autouse=True)
def _fresh_audit_block_cache():
    # Test databases are flushed between tests; production tables never shrink, tests' do.
    from audit.selectors import complete_blocks

    complete_blocks.clear()
    yield
    complete_blocks.clear()


# --- Celery ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Eager unless the test asked for the real worker."""
    eager = request.node.get_closest_marker("real_worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    # Celery keeps "a join would block" in one process-wide flag that eager tasks run from
    # concurrent threads can leave set; each test starts with it cleared.
    with allow_join_result():
        yield
    celery_app.conf.task_always_eager = previous


def _database_url_for_worker() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the real-worker tests share the test database with the worker: PostgreSQL only")
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery worker`` process consuming every queue, against the test database."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (a real broker)")
    with django_db_blocker.unblock():
        database_url = _database_url_for_worker()
    celery_app.control.purge()  # messages left by an earlier, interrupted run
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    mail_dir = tmp_path_factory.mktemp("worker-mail")
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    env = os.environ | {
        "DATABASE_URL": database_url, "DEBUG": "true", "PYTHONUNBUFFERED": "1",
        "EMAIL_URL": f"filemail:///{mail_dir}",  # each email the worker sends, a file there
    }  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                ",".join(QUEUES),
                "-n",
                name,
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the test worker did not start:\n{log_path.read_text()[-4000:]}")
        process.mail_dir = mail_dir
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def real_worker(celery_worker_process, transactional_db):
    """Use in tests marked ``real_worker``; the data they create must be committed to be seen."""
    return celery_worker_process


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
