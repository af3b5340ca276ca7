"""A trail wiped or rewritten by whoever controls the database is caught against checkpoints kept
outside it (issue "Hardening", finding 1): audit_checkpoint_export writes the newest one, and
verify_audit --published fails when the trail is shorter than it or differs from it, an empty
trail included. Without it, an emptied trail verifies as an empty, consistent one."""

from __future__ import annotations

import base64
import io
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from audit.models import AuditCheckpoint, AuditEvent, AuditSealState, AuditTreeNode, AuditWitnessSignature
from audit.services.sealing import audit_seal
from tests.audit.conftest import bypassing_triggers
from tests.audit.helpers import record_many

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_EVENTS = 100
    record_many(300)
    audit_seal()
    path = tmp_path / "checkpoint-3.json"
    out = io.StringIO()
    call_command("audit_checkpoint_export", "--out", str(path), stdout=out)
    assert out.getvalue() == f"checkpoint #3 (tree size 300) written to {path}\n"
    return path


def verify(*paths) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    arguments = [argument for path in paths for argument in ("--published", str(path))]
    try:
        call_command("verify_audit", "--no-record", *arguments, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, err.getvalue() + str(error)
    return 0, out.getvalue()


def wipe_everything() -> None:
    """What the tables' owner could still do: empty the whole trail, triggers and all."""
    with bypassing_triggers() as cursor:
        for model in (AuditWitnessSignature, AuditCheckpoint, AuditTreeNode, AuditEvent, AuditSealState):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")


def test_a_trail_that_still_holds_the_published_checkpoint_verifies(published):
    record_many(50)
    audit_seal()  # the trail grew since: still consistent with what was published
    code, out = verify(published)
    assert code == 0 and "audit trail OK" in out


def test_an_emptied_trail_is_invalid_against_a_published_checkpoint(published):
    wipe_everything()
    code, out = verify()
    assert code == 0 and "audit trail OK" in out  # without a published checkpoint, it still verifies
    code, report = verify(published)
    assert code == 1
    assert f"published checkpoint #3 ({published}): covers 300 events but the trail holds 0" in report
    assert "audit trail INVALID" in report


def test_a_trail_cut_short_is_invalid(published):
    with bypassing_triggers() as cursor:
        cursor.execute("DELETE FROM audit_auditwitnesssignature")
        cursor.execute("DELETE FROM audit_auditcheckpoint WHERE sequence = 3")
        cursor.execute("DELETE FROM audit_auditevent WHERE position >= 200")
        cursor.execute("UPDATE audit_auditsealstate SET tree_size = 200")
    code, report = verify(published)
    assert code == 1 and "covers 300 events but the trail holds 200: events were removed" in report


def test_a_rewritten_trail_of_the_same_length_is_invalid(published, settings):
    wipe_everything()
    record_many(300)  # another history, sealed and signed again with the same key
    audit_seal()
    code, report = verify(published)
    assert code == 1
    assert "published checkpoint #3" in report and "differs: it was rewritten" in report


def test_a_forged_published_checkpoint_is_refused(published, tmp_path):
    document = json.loads(published.read_text())
    document["body"]["tree_size"] = 10
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    code, report = verify(forged)
    assert code == 1 and "its signature does not verify with a trusted audit key" in report


def test_a_published_witness_signature_is_checked_with_the_witness_key(published, tmp_path):
    witness = Ed25519PrivateKey.generate()
    key_file = tmp_path / "witness.pem"
    key_file.write_bytes(
        witness.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    )  # fmt: skip
    public_file = tmp_path / "witness.pub.pem"
    public_file.write_bytes(
        witness.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    call_command("witness_checkpoints", "--key", str(key_file), stdout=io.StringIO())
    witnessed = tmp_path / "witnessed.json"
    call_command("audit_checkpoint_export", "--out", str(witnessed), stdout=io.StringIO())
    document = json.loads(witnessed.read_text())
    assert len(document["witnesses"]) == 1
    document["witnesses"][0]["signature"] = base64.b64encode(bytes(64)).decode()
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", "--no-record", "--published", str(tampered), "--witness-key",
                     str(public_file), stdout=out, stderr=err)  # fmt: skip
    assert "witness" in err.getvalue() and "signature does not verify" in err.getvalue()


@pytest.mark.parametrize(
    "content", ["not json", '{"body": {}}', '{"body": {"sequence": 1}, "signature": "!!"}']
)
def test_an_unreadable_published_file_is_a_one_line_error(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CommandError, match="is not a checkpoint document") as refused:
        call_command("verify_audit", "--no-record", "--published", str(path), stdout=io.StringIO())
    assert refused.value.returncode == 2


def test_export_never_overwrites_and_needs_a_checkpoint(tmp_path, published):
    with pytest.raises(CommandError, match="exists: each checkpoint goes to a new file"):
        call_command("audit_checkpoint_export", "--out", str(published), stdout=io.StringIO())
    wipe_everything()
    with pytest.raises(CommandError, match="no checkpoint yet"):
        call_command("audit_checkpoint_export", "--out", str(tmp_path / "new.json"), stdout=io.StringIO())
