from __future__ import annotations

import json

import pytest
from django.test import override_settings

from config import health
from tests.config.test_env import STRONG_SECRET, run_manage

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.mark.django_db
def test_healthz_reports_every_part_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True
    assert set(body["checks"]) == {"database", "cache", "broker", "worker"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_is_unreachable(client):
    # override_settings rebuilds the cache handlers, so the view meets the unreachable Redis.
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["cache"] == {
        "ok": False,
        "error": body["checks"]["cache"]["error"],
        "ms": body["checks"]["cache"]["ms"],
        "required": True,
    }
    assert "127.0.0.1" not in response.content.decode()


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    script = (
        "import json; from django.test import Client;"
        "r = Client(HTTP_HOST='localhost').get('/healthz'); print(r.status_code); print(r.content.decode())"
    )
    result = run_manage(
        "shell",
        "-c",
        script,
        DEBUG="true",
        DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-2:]
    assert status == "503"
    checks = json.loads(body)["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["error"] == "OperationalError"


def test_an_unreachable_redis_in_production_fails_healthz_but_not_the_pages(tmp_path):
    key = tmp_path / "audit.pem"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    script = (
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "call_command('collectstatic', interactive=False, verbosity=0);"
        "from django.test import Client; c = Client(HTTP_HOST='localhost');"
        "print(c.get('/', secure=True).status_code);"
        "r = c.get('/healthz', secure=True); print(r.status_code); print(r.content.decode())"
    )
    result = run_manage(
        "shell",
        "-c",
        script,
        DEBUG="false",
        EMAIL_URL="smtp://127.0.0.1:2525",
        DATA_DIR=str(tmp_path),
        SECRET_KEY=STRONG_SECRET,
        AUDIT_SIGNING_KEY_FILE=str(key),
        REDIS_URL="redis://127.0.0.1:1/0",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    assert result.returncode == 0, result.stderr
    home, status, body = result.stdout.strip().splitlines()[-3:]
    assert home == "200"
    assert status == "503"
    checks = json.loads(body)["checks"]
    assert checks["database"]["ok"] is True
    assert checks["broker"]["ok"] is False
    assert checks["worker"]["ok"] is False


@pytest.mark.real_worker
def test_healthz_sees_a_running_worker(client, real_worker):
    health.reset_worker_cache()
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["worker"]["workers"] >= 1
    assert body["checks"]["worker"]["required"] is True


@pytest.mark.django_db
def test_anyone_gets_the_status_only_probes_on_the_host_and_officers_the_checks(
    client, officer, trader_owner
):
    from_outside = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert (from_outside.status_code, from_outside.json()) == (200, {"status": "ok"})
    client.force_login(trader_owner)
    assert client.get("/healthz", REMOTE_ADDR="203.0.113.9").json() == {"status": "ok"}
    client.force_login(officer)
    assert set(client.get("/healthz", REMOTE_ADDR="203.0.113.9").json()) == {"status", "checks"}
    client.logout()
    on_the_host = client.get("/healthz", REMOTE_ADDR="127.0.0.1").json()
    assert on_the_host["status"] == "ok" and on_the_host["checks"]["database"]["ok"] is True
