"""verify_audit recomputes everything and names the first thing that does not match."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditCheckpoint, AuditEvent, AuditTreeNode
from audit.services.sealing import audit_seal
from audit.verification import audit_verify
from tests.audit.conftest import bypassing_triggers
from tests.audit.helpers import record_many

pytestmark = pytest.mark.django_db

EVENTS = 300  # more than one 256-leaf block, so stored tree nodes are covered too


@pytest.fixture
def sealed_log(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 100
    record_many(EVENTS)
    audit_seal()
    assert audit_verify().ok
    return settings


def run_verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", "--no-record", stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code, err_text = exc.returncode, str(exc)
        err.write(err_text)
    return code, out.getvalue(), err.getvalue()


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def test_a_healthy_trail_verifies(sealed_log):
    code, out, _ = run_verify()
    assert code == 0
    assert f"{EVENTS} sealed events, 3 checkpoints, 0 not yet sealed" in out
    assert "audit trail OK" in out


def test_changing_one_byte_of_an_events_data_is_caught_at_its_position(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"SELECT data FROM {table(AuditEvent)} WHERE position = 150")
        raw = cursor.fetchone()[0]
        data = json.loads(raw) if isinstance(raw, str) else raw
        data["n"] = data["n"] + 1
        cursor.execute(f"UPDATE {table(AuditEvent)} SET data = %s WHERE position = 150", [json.dumps(data)])
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at event position 150" in err
    assert "chain hash does not match" in err


def test_changing_an_events_action_is_caught(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"UPDATE {table(AuditEvent)} SET action = 'declaration.signed' WHERE position = 7")
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at event position 7" in err


def test_changing_a_stored_chain_hash_is_caught(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"UPDATE {table(AuditEvent)} SET chain_hash = %s WHERE position = 42", [bytes(32)])
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at event position 42" in err


def test_changing_a_stored_leaf_hash_is_caught(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"UPDATE {table(AuditEvent)} SET leaf_hash = %s WHERE position = 0", [b"\x01" * 32])
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at event position 0" in err
    assert "leaf hash does not match" in err


def test_reordering_two_events_is_caught_at_the_first_of_them(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"UPDATE {table(AuditEvent)} SET position = 1000000 WHERE position = 60")
        cursor.execute(f"UPDATE {table(AuditEvent)} SET position = 60 WHERE position = 61")
        cursor.execute(f"UPDATE {table(AuditEvent)} SET position = 61 WHERE position = 1000000")
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at event position 60" in err


def test_deleting_an_event_is_caught_at_its_position(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"DELETE FROM {table(AuditEvent)} WHERE position = 222")
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at event position 222: missing" in err


def test_deleting_the_newest_events_is_caught_by_the_checkpoint(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"DELETE FROM {table(AuditEvent)} WHERE position >= 290")
    code, _, err = run_verify()
    assert code == 1
    assert "checkpoint #3 (tree size 300)" in err


def test_changing_a_checkpoint_root_is_caught(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"UPDATE {table(AuditCheckpoint)} SET root_hash = %s WHERE sequence = 2", [bytes(32)])
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at checkpoint #2 (tree size 200): root hash does not match" in err


def test_changing_a_checkpoint_signature_is_caught(sealed_log):
    checkpoint = AuditCheckpoint.objects.get(sequence=1)
    forged = bytearray(bytes(checkpoint.signature))
    forged[0] ^= 1
    with bypassing_triggers() as cursor:
        cursor.execute(
            f"UPDATE {table(AuditCheckpoint)} SET signature = %s WHERE sequence = 1", [bytes(forged)]
        )
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at checkpoint #1 (tree size 100): signature does not verify" in err


def test_changing_a_stored_tree_node_is_caught(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(
            f'UPDATE {table(AuditTreeNode)} SET hash = %s WHERE level = 8 AND "index" = 0', [bytes(32)]
        )
    code, _, err = run_verify()
    assert code == 1
    assert "tree node level 8 index 0" in err


def test_verification_is_recorded_as_an_audit_event(sealed_log):
    call_command("verify_audit", stdout=io.StringIO())
    event = AuditEvent.objects.filter(action="audit.verified").get()
    assert event.data == {"ok": True, "events": EVENTS, "checkpoints": 3, "first_problem": None}


def test_data_that_is_no_longer_json_is_caught(sealed_log):
    with bypassing_triggers() as cursor:
        cursor.execute(f"UPDATE {table(AuditEvent)} SET data = %s WHERE position = 5", ['{"n": 5'])
    code, _, err = run_verify()
    assert code == 1
    assert "first mismatch at event position 5" in err


@pytest.mark.django_db(transaction=True)
def test_parallel_verification_finds_what_the_serial_one_finds(settings, monkeypatch):
    """On PostgreSQL, forked workers check ranges on their own connections (committed data)."""
    if connection.vendor != "postgresql":
        pytest.skip("parallel verification runs on PostgreSQL only")
    from audit import verification, verification_chunks

    monkeypatch.setattr(verification, "PARALLEL_CHUNK", 64)
    monkeypatch.setattr(verification_chunks, "STREAM_CHUNK", 25)
    settings.AUDIT_CHECKPOINT_EVENTS = 100
    record_many(EVENTS)
    audit_seal()
    healthy = audit_verify(jobs=2)
    assert healthy.ok and healthy.events == EVENTS and healthy.checkpoints == 3
    with bypassing_triggers() as cursor:
        cursor.execute(f"UPDATE {table(AuditEvent)} SET action = 'flag.raised' WHERE position IN (70, 199)")
        cursor.execute(f"DELETE FROM {table(AuditEvent)} WHERE position = 250")
    serial, parallel = audit_verify(jobs=1), audit_verify(jobs=2)
    assert [str(p) for p in parallel.problems] == [str(p) for p in serial.problems]
    assert str(parallel.first_problem).startswith("event position 70 ")
    assert parallel.events == serial.events == 250
