from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection

from audit import keys
from audit.models import AuditCheckpoint, AuditEvent, AuditWitnessSignature
from audit.selectors import audit_receipt_build
from audit.services.sealing import audit_seal
from audit.services.witnesses import WitnessRefusal, audit_checkpoints_witness
from audit.verification import audit_verify
from audit.verify_receipt import key_id, verify_receipt
from tests.audit.conftest import bypassing_triggers
from tests.audit.helpers import record_many

pytestmark = pytest.mark.django_db


def write_key(path, key: Ed25519PrivateKey) -> str:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(path)


def write_public(path, key: Ed25519PrivateKey) -> str:
    path.write_text(keys.public_key_pem(key.public_key()))
    return str(path)


@pytest.fixture
def three_checkpoints(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 5
    record_many(15)
    audit_seal()
    assert AuditCheckpoint.objects.count() == 3


def test_a_witness_co_signs_each_checkpoint_once(three_checkpoints, tmp_path):
    witness = Ed25519PrivateKey.generate()
    key_file = write_key(tmp_path / "witness.pem", witness)
    out = io.StringIO()
    call_command("witness_checkpoints", "--key", key_file, stdout=out)
    assert f"witness {key_id(witness.public_key())} co-signed: #1, #2, #3" in out.getvalue()
    out = io.StringIO()
    call_command("witness_checkpoints", "--key", key_file, stdout=out)
    assert "none (all already co-signed)" in out.getvalue()
    assert AuditWitnessSignature.objects.count() == 3
    assert AuditEvent.objects.filter(action="audit.witnessed").count() == 3


def test_verification_reports_which_checkpoints_carry_which_witness(three_checkpoints, tmp_path):
    witness = Ed25519PrivateKey.generate()
    audit_checkpoints_witness(private_key=witness)
    out = io.StringIO()
    call_command(
        "verify_audit", "--no-record", "--witness-key", write_public(tmp_path / "w.pub", witness), stdout=out
    )
    witness_id = key_id(witness.public_key())
    for sequence in (1, 2, 3):
        assert f"checkpoint #{sequence}: witness {witness_id} valid" in out.getvalue()
    other = Ed25519PrivateKey.generate()
    report = audit_verify(witness_keys=(other.public_key(),))
    assert report.witnesses[1] == [(witness_id, "not checked (key not given)")]


def test_a_forged_witness_signature_is_caught(three_checkpoints):
    witness = Ed25519PrivateKey.generate()
    audit_checkpoints_witness(private_key=witness)
    with bypassing_triggers() as cursor:
        cursor.execute(
            f"UPDATE {AuditWitnessSignature._meta.db_table} SET signature = %s WHERE checkpoint_id = "
            f"(SELECT id FROM {AuditCheckpoint._meta.db_table} WHERE sequence = 2)",
            [bytes(64)],
        )
    report = audit_verify(witness_keys=(witness.public_key(),))
    assert not report.ok
    assert str(report.first_problem) == (
        f"checkpoint #2 (tree size 10): witness {key_id(witness.public_key())} signature does not verify"
    )


def test_the_witness_refuses_a_checkpoint_whose_log_signature_is_bad(three_checkpoints):
    with bypassing_triggers() as cursor:
        cursor.execute(
            f"UPDATE {AuditCheckpoint._meta.db_table} SET signature = %s WHERE sequence = 2", [bytes(64)]
        )
    with pytest.raises(WitnessRefusal, match=r"checkpoint #2: the log's signature does not verify"):
        audit_checkpoints_witness(private_key=Ed25519PrivateKey.generate())
    assert AuditWitnessSignature.objects.count() == 1  # #1 was fine and stays co-signed


def test_the_witness_refuses_a_rewritten_history(settings):
    """A log that rewrites an old event and re-signs cannot get the witness to follow the fork."""
    settings.AUDIT_CHECKPOINT_EVENTS = 4
    record_many(4)
    audit_seal()
    witness = Ed25519PrivateKey.generate()
    audit_checkpoints_witness(private_key=witness)
    # The operator rewrites event 0 and forges a new checkpoint over 8 events with a valid log
    # signature: internally consistent, but not an extension of what the witness saw.
    record_many(4, start=100)
    with bypassing_triggers() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET leaf_hash = %s WHERE position = 0", [b"\x07" * 32]
        )
    audit_seal()
    with pytest.raises(WitnessRefusal, match="is not consistent with #1"):
        audit_checkpoints_witness(private_key=witness)


def test_witness_command_errors_are_clear(tmp_path):
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(CommandError, match="cannot load the witness key"):
        call_command("witness_checkpoints", "--key", str(tmp_path / "junk.pem"))


def test_old_checkpoints_verify_after_a_key_rotation_only_if_the_old_key_is_kept(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_EVENTS = 2
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    settings.AUDIT_SIGNING_KEY = Path(write_key(tmp_path / "old.pem", old)).read_text()
    keys.reset_caches()
    record_many(2)
    audit_seal()
    event = AuditEvent.objects.get(position=0)
    old_receipt = audit_receipt_build(event=event, disclose_network=True)

    settings.AUDIT_SIGNING_KEY = Path(write_key(tmp_path / "new.pem", new)).read_text()
    settings.AUDIT_RETIRED_PUBLIC_KEYS = [write_public(tmp_path / "old.pub", old)]
    keys.reset_caches()
    record_many(2)
    audit_seal()
    assert list(AuditCheckpoint.objects.values_list("key_id", flat=True)) == [
        key_id(old.public_key()),
        key_id(new.public_key()),
    ]
    assert audit_verify().ok
    assert sorted(keys.trusted_public_keys()) == sorted([key_id(old.public_key()), key_id(new.public_key())])
    assert verify_receipt(old_receipt, list(keys.trusted_public_keys().values())).ok

    settings.AUDIT_RETIRED_PUBLIC_KEYS = []
    keys.reset_caches()
    report = audit_verify()
    assert (
        str(report.first_problem)
        == f"checkpoint #1 (tree size 2): signed with unknown key {key_id(old.public_key())}"
    )


def test_a_malformed_signing_key_is_refused(settings):
    settings.AUDIT_SIGNING_KEY = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
    keys.reset_caches()
    with pytest.raises(Exception, match="AUDIT_SIGNING_KEY: not an unencrypted PEM private key"):
        keys.signing_key()


def test_the_development_key_is_generated_once_and_private(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = None
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "dev.pem"
    keys.reset_caches()
    first = keys.signing_key_id()
    keys.reset_caches()
    assert keys.signing_key_id() == first
    assert oct(os.stat(tmp_path / "dev.pem").st_mode & 0o777) == "0o600"


def test_audit_keygen_never_overwrites(tmp_path):
    target = tmp_path / "audit.pem"
    out = io.StringIO()
    call_command("audit_keygen", "--out", str(target), stdout=out)
    assert "key id:" in out.getvalue() and "BEGIN PUBLIC KEY" in out.getvalue()
    before = target.read_bytes()
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("audit_keygen", "--out", str(target))
    assert target.read_bytes() == before


def test_operator_commands_seal_and_print_receipts(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 3
    record_many(3)
    out = io.StringIO()
    call_command("seal_audit", stdout=out)
    assert out.getvalue().strip() == "sealed 3 events; tree size 3; checkpoints closed: #1"
    event = AuditEvent.objects.get(position=1)
    out = io.StringIO()
    call_command("audit_receipt", str(event.event_id), stdout=out)
    receipt = json.loads(out.getvalue())
    assert receipt["inclusion"] == {"leaf_index": 1, "tree_size": 3, "path": receipt["inclusion"]["path"]}
    assert verify_receipt(receipt, [keys.signing_key().public_key()]).ok
    with pytest.raises(CommandError, match="no audit event"):
        call_command("audit_receipt", "00000000-0000-0000-0000-000000000000")


def test_witness_rows_are_append_only_on_postgresql(three_checkpoints):
    if connection.vendor != "postgresql":
        pytest.skip("triggers exist on PostgreSQL only")
    from django.db import ProgrammingError, transaction

    audit_checkpoints_witness(private_key=Ed25519PrivateKey.generate())
    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
        AuditWitnessSignature.objects.all().delete()
