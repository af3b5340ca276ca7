"""core.postgresql: the persistent connection's health check asks the server only when the
connection has something to read, and still finds a connection the server has ended."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's check"),
]


def _other_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    )


def _last_statement(backend_pid: int) -> str:
    with _other_connection() as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [backend_pid]).fetchone()[0]


def test_the_backend_is_ours():
    assert type(connections["default"]).__module__ == "core.postgresql.base"


def test_a_sound_idle_connection_is_usable_without_a_query():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), 'health check marker'")
        pid = cursor.fetchone()[0]
    assert connection.is_usable()
    assert "health check marker" in _last_statement(pid)


def test_a_connection_the_server_ended_is_not_usable():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with _other_connection() as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        # the backend is gone once it no longer shows in pg_stat_activity
        for _ in range(200):
            if not other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                break
    assert not connection.is_usable()
    connection.close_if_health_check_failed()  # what Django does at a request's first query
    connection.close()
    with connection.cursor() as cursor:  # and the next query gets a new connection
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_left_in_a_transaction_is_checked_by_the_server():
    connection.ensure_connection()
    raw = connection.connection
    raw.autocommit = False
    try:
        raw.execute("SELECT 1")  # now inside a transaction
        assert connection.is_usable()
    finally:
        raw.rollback()
        raw.autocommit = True
