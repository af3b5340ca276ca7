"""Settings parsing: good values pass, malformed ones stop start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config.env import SettingsError, env_bool, env_database, env_int, env_list, env_redis, env_secret
from tests.conftest import ROOT

STRONG_SECRET = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz-_"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("No", False),
        ("off", False),
        (" true ", True),
    ],
)
def test_env_bool_accepts_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG", not expected) is expected


def test_env_bool_uses_the_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert env_bool("SOME_FLAG", True) is True
    monkeypatch.setenv("SOME_FLAG", "")
    assert env_bool("SOME_FLAG", False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "enabled"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("SOME_FLAG", raw)
    with pytest.raises(SettingsError, match="SOME_FLAG: expected true/false"):
        env_bool("SOME_FLAG", False)


def test_env_int_checks_type_and_bounds(monkeypatch):
    monkeypatch.setenv("N", "12")
    assert env_int("N", 1, minimum=1) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(SettingsError, match="N: expected a whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(SettingsError, match="N: must be at least 1"):
        env_int("N", 1, minimum=1)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example,, ")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


@pytest.mark.parametrize(
    ("url", "engine", "name"),
    [
        ("postgres://postgres@127.0.0.1:5432/csg", "django.db.backends.postgresql", "csg"),
        ("postgresql://u:p%40ss@db:5433/csg", "django.db.backends.postgresql", "csg"),
        ("sqlite:////tmp/x.sqlite3", "django.db.backends.sqlite3", "/tmp/x.sqlite3"),
    ],
)
def test_env_database_parses_supported_urls(monkeypatch, url, engine, name):
    monkeypatch.setenv("DATABASE_URL", url)
    config = env_database("DATABASE_URL", "sqlite:////tmp/default.sqlite3")
    assert config["ENGINE"] == engine
    assert config["NAME"] == name


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgress://u@h/db", "unsupported scheme 'postgress'"),
        ("mysql://u@h/db", "unsupported scheme 'mysql'"),
        ("just-a-string", "unsupported scheme '(none)'"),
        ("postgres://u@h:notaport/db", "Port could not be cast"),
        ("postgres://u@h:5432/", "no database name"),
        ("postgres:///db", "no host"),
    ],
)
def test_env_database_refuses_malformed_urls(monkeypatch, url, message):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(
        SettingsError, match="DATABASE_URL: .*" + message.replace("(", r"\(").replace(")", r"\)")
    ):
        env_database("DATABASE_URL", "sqlite:////tmp/default.sqlite3")


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/2", "redis://h"])
def test_env_redis_accepts_redis_urls(monkeypatch, url):
    monkeypatch.setenv("REDIS_URL", url)
    assert env_redis("REDIS_URL") == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379/0", "unsupported scheme 'http'"),
        ("redis://:6379/0", "no host"),
        ("redis://h:port/0", "Port could not be cast"),
        ("redis://h:6379/zero", "the database must be a number"),
    ],
)
def test_env_redis_refuses_malformed_urls(monkeypatch, url, message):
    monkeypatch.setenv("REDIS_URL", url)
    with pytest.raises(SettingsError, match="REDIS_URL: " + message):
        env_redis("REDIS_URL")


def test_env_secret_reads_a_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.setenv("TOKEN_FILE", str(secret_file))
    assert env_secret("TOKEN") == "from-a-file"


def test_env_secret_refuses_both_forms_and_unreadable_files(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKEN", "direct")
    monkeypatch.setenv("TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="either TOKEN or TOKEN_FILE"):
        env_secret("TOKEN")
    monkeypatch.delenv("TOKEN")
    with pytest.raises(SettingsError, match="TOKEN_FILE: cannot read"):
        env_secret("TOKEN")


# --- the whole start-up, in a subprocess as an operator would run it ---------------------------


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "SECRET_KEY"))
    }
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"DEBUG": "maybe"}, "configuration error: DEBUG: expected true/false"),
        (
            {"DEBUG": "true", "DATABASE_URL": "postgress://x/y"},
            "configuration error: DATABASE_URL: unsupported scheme",
        ),
        (
            {"DEBUG": "true", "REDIS_URL": "redis://h:port/0"},
            "configuration error: REDIS_URL: Port could not be cast",
        ),
        ({"DEBUG": "false"}, "configuration error: SECRET_KEY: missing"),
        ({"DEBUG": "false", "SECRET_KEY": "short"}, "configuration error: SECRET_KEY: too weak"),
        ({"DEBUG": "false", "SECRET_KEY": STRONG_SECRET}, "configuration error: AUDIT_SIGNING_KEY: missing"),
        (
            {"DEBUG": "true", "LANGUAGE_CODE": "fr"},
            "configuration error: LANGUAGE_CODE: expected one of en, vi",
        ),
        (
            {"DEBUG": "true", "TRUSTED_PROXIES": "10.0.0.0/8,nginx"},
            "configuration error: TRUSTED_PROXIES: 'nginx' is not an IP address or network",
        ),
        (
            {"DEBUG": "true", "TRUSTED_PROXY_COUNT": "-1"},
            "configuration error: TRUSTED_PROXY_COUNT: must be at least 0",
        ),
    ],
)
def test_a_bad_environment_stops_start_up_with_one_line(tmp_path, env, line):
    result = run_manage("check", DATA_DIR=str(tmp_path), **env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(line)
    assert "Traceback" not in result.stderr


def test_the_default_database_is_sqlite_in_wal_mode(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode');"
        "print(c.fetchone()[0], connection.vendor)",
        DEBUG="true",
        DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "wal sqlite"
    assert (tmp_path / "db.sqlite3").exists()


def test_a_celery_worker_with_a_bad_environment_stops_with_one_line(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "worker"],
        cwd=ROOT,
        env=clean | {"DEBUG": "true", "DATA_DIR": str(tmp_path), "REDIS_URL": "http://nope"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "configuration error: REDIS_URL: unsupported scheme 'http'; expected redis://host:port/db"
    )


@pytest.mark.parametrize("email_url", [None, "consolemail://", "memorymail://"])
def test_production_refuses_console_or_missing_mail(tmp_path, email_url):
    key = tmp_path / "audit.pem"
    run_manage("audit_keygen", "--out", str(key), DEBUG="true", DATA_DIR=str(tmp_path))
    env = {"DEBUG": "false", "SECRET_KEY": STRONG_SECRET, "AUDIT_SIGNING_KEY_FILE": str(key)}
    if email_url:
        env["EMAIL_URL"] = email_url
    result = run_manage("check", DATA_DIR=str(tmp_path), **env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: EMAIL_URL: set it to the mail server (e.g. "
        "smtp+tls://user:password@mail.example:587); console mail would print one-time links into the logs"
    )
