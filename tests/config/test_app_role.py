"""The application's own database role (issue "Hardening", finding 1): it reads and writes what
the product needs, owns nothing, cannot truncate, alter or switch off a trigger, and cannot change
or delete the audit trail; the product runs on it. PostgreSQL only: roles are PostgreSQL's."""

from __future__ import annotations

import os
import secrets

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent
from audit.services.sealing import audit_seal
from config.management.commands.grant_app_role import APPEND_ONLY, NEVER_DELETED

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.environ.get("DATABASE_URL", "")[:8] != "postgres", reason="roles: PostgreSQL only"),
]


@pytest.fixture
def app_role(tmp_path):
    name = f"csg_app_test_{os.getpid()}"
    password = tmp_path / "password"
    password.write_text(secrets.token_urlsafe(24) + "\n")
    call_command("grant_app_role", role=name, password_file=str(password))
    yield name, password.read_text().strip()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{name}"')
        cursor.execute(f'DROP ROLE "{name}"')


def _as(role: tuple[str, str]) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, dbname=settings["NAME"],
        user=role[0], password=role[1], autocommit=True,
    )  # fmt: skip


def _privilege(role: str, table: str, privilege: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
        return cursor.fetchone()[0]


def test_the_role_reads_and_writes_every_table_but_truncates_none_and_owns_none(app_role):
    role = app_role[0]
    tables = connection.introspection.table_names()
    assert "audit_auditevent" in tables and len(tables) > 40
    for table in tables:
        assert _privilege(role, table, "SELECT") and _privilege(role, table, "INSERT"), table
        assert not _privilege(role, table, "TRUNCATE"), table
        assert _privilege(role, table, "DELETE") is (table not in NEVER_DELETED), table
        assert _privilege(role, table, "UPDATE") is (table not in APPEND_ONLY), table
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = %s", [role])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s", [role])
        assert cursor.fetchone() == (False, False, False)


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("TRUNCATE audit_auditevent CASCADE", "permission denied"),
        ("DELETE FROM audit_auditevent", "permission denied"),
        ("UPDATE audit_auditcheckpoint SET tree_size = 0", "permission denied"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER {trigger} ON audit_auditevent", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("CREATE TABLE wiped (id int)", "permission denied"),
    ],
)
def test_the_role_cannot_wipe_the_trail_or_switch_its_triggers_off(app_role, statement, refusal):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'pgtrigger_audit_event_no_delete_%%'")
        (trigger,) = cursor.fetchone()
    with _as(app_role) as session, pytest.raises(psycopg.Error, match=refusal):
        session.execute(statement.format(trigger=trigger))


def test_the_product_runs_on_the_role(app_role, world, settings):
    """Signing, recording and sealing as the application's role, not the test's superuser."""
    settings.AUDIT_CHECKPOINT_EVENTS = 1
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(USER=app_role[0], PASSWORD=app_role[1])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == app_role[0]
        record = world.sign(world.broker_agent, world.broker_key)
        assert record.outcome == "accepted"
        audit_seal()
        assert AuditEvent.objects.filter(position__isnull=True).count() == 0
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def test_a_superuser_or_the_owner_itself_is_refused(tmp_path):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match="the application needs its own"):
        call_command("grant_app_role", role=owner)
    superuser = f"csg_superuser_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{superuser}" SUPERUSER')
    try:
        with pytest.raises(CommandError, match="superuser: it could switch the audit triggers off"):
            call_command("grant_app_role", role=superuser)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP ROLE "{superuser}"')
    short = tmp_path / "short"
    short.write_text("tiny")
    with pytest.raises(CommandError, match="at least 16 characters"):
        call_command("grant_app_role", role="csg_never_made", password_file=str(short))
