"""docker-compose.yml: every service, its health check, and an environment the settings accept
(DESIGN §3; issue "Proof under real conditions", Compose)."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.core.cache import cache
from django.core.management import CommandError, call_command

from config.celery import QUEUES
from config.tasks import HEARTBEAT_CACHE_KEY

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "risk-worker", "beat")


def _defaults(value: str) -> str:
    """What compose substitutes for ``${NAME:-default}`` when NAME is unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def test_the_stack_has_its_services_each_long_running_one_with_a_health_check():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "risk-worker", "beat"}
    # migrate runs once and exits: no health to check, not restarted.
    assert SERVICES["migrate"]["restart"] == "no" and SERVICES["migrate"]["healthcheck"] == {"disable": True}
    for name, service in SERVICES.items():
        if name == "migrate":
            continue
        check = service.get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service.get("restart") == "unless-stopped", name


def test_the_application_waits_for_healthy_dependencies():
    healthy = {"postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["depends_on"] == healthy
    for name in ("web", "worker", "risk-worker"):
        assert SERVICES[name]["depends_on"] == healthy | {
            "migrate": {"condition": "service_completed_successfully"}
        }
    # Beat starts once web is up (it reads its schedules from the database).
    assert SERVICES["beat"]["depends_on"] == {"web": {"condition": "service_healthy"}}
    command = SERVICES["migrate"]["command"]
    assert "manage.py migrate" in command and "grant_app_role --role csg_app" in command
    assert "migrate" not in SERVICES["web"]["command"]


def test_only_migrate_connects_as_the_tables_owner():
    """The owner can drop the audit triggers; web and the workers connect as the application role
    (grant_app_role), and only migrate holds the owner's password."""
    assert SERVICES["postgres"]["environment"]["POSTGRES_USER"] == "csg_owner"
    migrate = SERVICES["migrate"]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://csg_owner@")
    assert migrate["environment"]["DATABASE_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    for name in APP_SERVICES:
        environment = SERVICES[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://csg_app@"), name
        assert environment["DATABASE_PASSWORD_FILE"] == "/run/secrets/app_db_password", name
        assert "postgres_password" not in SERVICES[name]["secrets"], name


def test_secrets_come_from_files_and_every_one_is_declared():
    for name in APP_SERVICES:
        environment = SERVICES[name]["environment"]
        for secret in ("SECRET_KEY", "AUDIT_SIGNING_KEY", "DATABASE_PASSWORD"):
            assert environment[f"{secret}_FILE"].startswith("/run/secrets/"), (name, secret)
        assert not {"SECRET_KEY", "DATABASE_PASSWORD"} & set(environment), "secrets are files, not values"
        user_part = environment["DATABASE_URL"].split("//", 1)[1].split("@", 1)[0]
        assert user_part and ":" not in user_part, "the database password is a secret file"
        assert set(SERVICES[name]["secrets"]) <= set(COMPOSE["secrets"])
    assert set(SERVICES["postgres"]["secrets"]) <= set(COMPOSE["secrets"])


def _queues(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command[command.index("-Q") + 1].split(",")


def test_the_workers_consume_every_queue_the_application_routes_to_each_once():
    assert sorted(_queues("worker") + _queues("risk-worker")) == sorted(QUEUES)


def test_the_risk_worker_evaluates_in_two_threads_and_its_health_check_names_it():
    # The real-worker tests run their worker with a thread pool too (tests/conftest.py).
    command = SERVICES["risk-worker"]["command"]
    assert _queues("risk-worker") == ["risk"]
    assert command[command.index("--pool") + 1] == "threads"
    assert int(command[command.index("--concurrency") + 1]) >= 2
    name = command[command.index("-n") + 1].split("@")[0]
    assert f"-d {name}@$$HOSTNAME" in SERVICES["risk-worker"]["healthcheck"]["test"][1]


def test_the_application_environment_gives_valid_production_settings(tmp_path):
    """Import the settings and run Django's deployment checks with exactly web's environment,
    its secrets written to files: a misspelt or missing variable fails here, not at deploy."""
    environment = {name: _defaults(value) for name, value in SERVICES["web"]["environment"].items()}
    # Compose refuses to start without a mail server (${EMAIL_URL:?...}): the operator names one.
    assert SERVICES["web"]["environment"]["EMAIL_URL"].startswith("${EMAIL_URL:?")
    environment["EMAIL_URL"] = "smtp+tls://csg@mail.customs.example.gov.vn:587"
    secret_files = {
        "/run/secrets/secret_key": secrets.token_urlsafe(64),
        "/run/secrets/postgres_password": secrets.token_urlsafe(24),
        "/run/secrets/app_db_password": secrets.token_urlsafe(24),
    }
    for name, value in list(environment.items()):
        if name.endswith("_FILE"):
            path = tmp_path / Path(value).name
            if "audit_signing_key" in value:
                subprocess.run(
                    [sys.executable, "manage.py", "audit_keygen", "--out", str(path)],
                    cwd=ROOT, env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "DATA_DIR": str(tmp_path)},
                    check=True, capture_output=True,
                )  # fmt: skip
            else:
                path.write_text(secret_files[value])
            environment[name] = str(path)
    environment |= {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_the_beat_health_check_needs_a_recent_heartbeat():
    cache.delete(HEARTBEAT_CACHE_KEY)
    with pytest.raises(CommandError, match="no heartbeat"):
        call_command("beat_alive")
    cache.set(HEARTBEAT_CACHE_KEY, time.time() - 300)
    with pytest.raises(CommandError, match=r"last heartbeat 30\d s ago"):
        call_command("beat_alive", "--max-age", "120")
    cache.set(HEARTBEAT_CACHE_KEY, time.time() - 10)
    call_command("beat_alive", "--max-age", "120")
    assert SERVICES["beat"]["healthcheck"]["test"][2:4] == ["manage.py", "beat_alive"]
