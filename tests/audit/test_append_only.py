"""History cannot be rewritten through the application, and on PostgreSQL not even through SQL."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from accounts.models import User
from audit.models import AuditCheckpoint, AuditEvent, AuditSealState, AuditTreeNode, AuditWitnessSignature
from audit.services.sealing import audit_seal
from tests.audit.helpers import record_many
from tests.conftest import ROOT

REFUSED = (ProgrammingError, InternalError, IntegrityError)
postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="triggers exist on PostgreSQL only"
)


@pytest.fixture
def sealed(settings, db):
    settings.AUDIT_CHECKPOINT_EVENTS = 300
    record_many(300)
    audit_seal()
    return AuditEvent.objects.get(position=3)


def _refused(sql: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except REFUSED as exc:
        return "pgtrigger" in str(exc)
    return False


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@postgres_only
def test_sealed_events_cannot_be_updated_or_deleted(sealed):
    assert _refused(f"UPDATE {_table(AuditEvent)} SET data = '{{}}' WHERE id = %s", [sealed.pk])
    assert _refused(f"UPDATE {_table(AuditEvent)} SET position = 99999 WHERE id = %s", [sealed.pk])
    assert _refused(f"UPDATE {_table(AuditEvent)} SET network_salt = NULL WHERE id = %s", [sealed.pk])
    assert _refused(f"DELETE FROM {_table(AuditEvent)} WHERE id = %s", [sealed.pk])
    with pytest.raises(REFUSED):
        AuditEvent.objects.filter(pk=sealed.pk).delete()


@postgres_only
def test_an_unsealed_event_may_only_receive_its_seal(db):
    (event,) = record_many(1)
    assert _refused(f"UPDATE {_table(AuditEvent)} SET action = 'flag.raised' WHERE id = %s", [event.pk])
    # Nor can a format-2 event be turned into format 1 before its seal, revealing nothing new.
    assert _refused(f"UPDATE {_table(AuditEvent)} SET network_salt = NULL WHERE id = %s", [event.pk])
    assert _refused(f"DELETE FROM {_table(AuditEvent)} WHERE id = %s", [event.pk])
    # Sealing while changing a fact is refused too.
    assert _refused(
        f"UPDATE {_table(AuditEvent)} SET position = 0, chain_hash = %s, leaf_hash = %s, sealed_at = now(), "
        "user_agent = 'forged' WHERE id = %s",
        [bytes(32), bytes(32), event.pk],
    )
    audit_seal()
    event.refresh_from_db()
    assert event.position == 0


@postgres_only
def test_checkpoints_nodes_and_witness_signatures_are_append_only(sealed):
    assert _refused(f"UPDATE {_table(AuditCheckpoint)} SET tree_size = 1")
    assert _refused(f"DELETE FROM {_table(AuditCheckpoint)}")
    assert _refused(f"UPDATE {_table(AuditTreeNode)} SET hash = %s", [bytes(32)])
    assert _refused(f"DELETE FROM {_table(AuditTreeNode)}")


WRITES = re.compile(
    r"(AuditEvent|AuditCheckpoint|AuditTreeNode|AuditWitnessSignature|AuditSealState)"
    r"(\.objects[^\n]*\.(create|update|delete|bulk_create|bulk_update|get_or_create|update_or_create)\(|\()"
)


def test_only_the_audit_service_layer_writes_audit_tables():
    """On SQLite there is no trigger: the guarantee is that no other code path writes these tables."""
    services, allowed = ROOT / "audit" / "services", {ROOT / "audit" / "models.py"}
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        # bench/ seeds its own throw-away database directly; it is not a path the application runs.
        skipped = {".venv", "tests", "migrations", "bench"}
        if skipped & set(path.relative_to(ROOT).parts) or path in allowed or path.is_relative_to(services):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if WRITES.search(line) and "import" not in line and "isinstance" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@postgres_only
@pytest.mark.parametrize(
    "model", [AuditEvent, AuditCheckpoint, AuditTreeNode, AuditWitnessSignature, AuditSealState]
)
def test_no_audit_table_can_be_truncated(sealed, model):
    _checks_done_now()
    before = model.objects.count()
    assert _refused(f"TRUNCATE {_table(model)} CASCADE")
    assert model.objects.count() == before


@postgres_only
def test_a_cascade_from_a_referenced_table_cannot_empty_the_trail(sealed):
    # The actor of an event is a user: truncating the users with CASCADE would empty the events.
    _checks_done_now()
    events = AuditEvent.objects.count()
    assert _refused(f"TRUNCATE {connection.ops.quote_name(User._meta.db_table)} CASCADE")
    assert AuditEvent.objects.count() == events > 0


def _checks_done_now() -> None:
    # PostgreSQL refuses to truncate a table with deferred foreign-key checks still pending in the
    # transaction, before any trigger is asked; the test's own inserts leave some.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@postgres_only
def test_no_session_can_switch_the_audit_triggers_off(sealed):
    """django-pgtrigger skips a trigger named in the pgtrigger.ignore setting, which any role may
    set; for the audit trail's triggers that is refused (audit.guards)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE 'pgtrigger_%%'",
            [AuditEvent._meta.db_table],
        )
        names = [name for (name,) in cursor.fetchall()]
    assert len(names) == 3, names  # no delete, seal only once, no truncate
    _checks_done_now()
    ignoring = f"SET LOCAL pgtrigger.ignore = '{{{','.join(names)}}}'"
    for sql, params in [
        (f"DELETE FROM {_table(AuditEvent)} WHERE id = %s", [sealed.pk]),
        (f"TRUNCATE {_table(AuditEvent)} CASCADE", []),
    ]:
        with (
            pytest.raises(REFUSED, match="pgtrigger: Cannot"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(ignoring)
            cursor.execute(sql, params)
    assert AuditEvent.objects.filter(pk=sealed.pk).exists()
