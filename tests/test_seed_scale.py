"""``seed_scale`` (issue #10): the generator at tiny sizes writes rows the models accept, references
that hold (the load skips the foreign-key triggers), the customs rules the services enforce, and
an audit trail that ``verify_audit`` accepts and the sealer extends."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounts.models import Organization, SignInEvent, User
from audit.models import AuditCheckpoint, AuditEvent, AuditTreeNode
from audit.services.events import audit_event_record
from audit.services.sealing import audit_seal
from audit.verification import audit_verify
from bench.seed.scale import ScaleRefused, Sizes, database_check, seed_scale
from brokers.models import AgentStaff, Authorization, BrokerLicence
from signatures.models import Certificate, CertificateCustodian, Declaration, SignatureRecord

SIZES = Sizes(
    enterprises=40, brokers=4, declarations=400, signins=600, audit_events=2_500, officers=2, days=30
)
SEEDED = (
    Organization, User, BrokerLicence, AgentStaff, Authorization, Certificate, CertificateCustodian,
    Declaration, SignatureRecord, SignInEvent,
)  # fmt: skip


def test_it_refuses_a_database_not_named_for_benchmarks(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "NAME", "csg_production")
    with pytest.raises(ScaleRefused):
        database_check()
    with pytest.raises(CommandError):
        call_command("seed_scale", "--enterprises", "1", stdout=io.StringIO())


def test_the_command_says_what_is_missing_where_bench_is_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "bench.seed.scale", None)  # as in an installed wheel
    with pytest.raises(CommandError, match=r"bench/seed/"):
        call_command("seed_scale", "--enterprises", "1", stdout=io.StringIO())


@pytest.fixture
def seeded(transactional_db, settings):
    if connection.vendor != "postgresql":
        pytest.skip("seed_scale loads with PostgreSQL's COPY")
    # Checkpoints at a size that is not a power of two, and a last, partial one.
    settings.AUDIT_CHECKPOINT_EVENTS = 300
    out = io.StringIO()
    indexes = _indexes()
    timings = seed_scale(SIZES, out=lambda line: out.write(line + "\n"))
    return timings, out.getvalue(), indexes


def _indexes() -> set[tuple[str, str]]:
    """Every index (and unique constraint) of the tables loaded with their indexes rebuilt."""
    tables = [m._meta.db_table for m in (AuditEvent, SignInEvent, SignatureRecord, Declaration)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
        return set(cursor.fetchall())


@pytest.mark.postgres
def test_it_fills_every_table_at_the_sizes_asked_and_times_each(seeded):
    timings, printed, indexes_before = seeded
    assert _indexes() == indexes_before  # dropped for the load, built again as they were
    assert Organization.objects.filter(kind="trader").count() == 40
    assert Organization.objects.filter(kind="broker").count() == 4
    assert BrokerLicence.objects.count() == 4
    assert SignatureRecord.objects.count() == 400
    assert Declaration.objects.count() == SignatureRecord.objects.filter(outcome="accepted").count() > 300
    assert SignInEvent.objects.count() == 600
    assert AuditEvent.objects.count() == 2_500
    assert User.objects.filter(role="officer").count() == 2
    assert {"organisations", "signature records", "sign-in events", "audit events (sealed)", "total"} <= set(
        timings
    )
    assert "sealed 2,500 events: 9 signed checkpoints" in printed


@pytest.mark.postgres
def test_every_seeded_row_passes_model_validation_and_its_references_exist(seeded):
    for model in SEEDED:
        rows = list(model.objects.order_by("?")[:150])
        assert rows, model.__name__
        for row in rows:
            row.full_clean()  # tax codes, ID numbers, choices, check and unique constraints
        for field in model._meta.concrete_fields:
            if field.is_relation:
                dangling = model.objects.exclude(**{f"{field.name}__isnull": True}).exclude(
                    **{f"{field.attname}__in": field.related_model.objects.values("pk")}
                )
                assert not dangling.exists(), f"{model.__name__}.{field.name}"


@pytest.mark.postgres
def test_the_signature_records_follow_the_signing_rules(seeded):
    records = SignatureRecord.objects.select_related(
        "trader", "signer", "signer_organization", "certificate", "authorization", "agent", "declaration"
    )
    broker_signed = 0
    for record in records:
        assert record.certificate.organization_id == record.signer_organization_id  # its own certificate
        assert record.signer.organization_id == record.signer_organization_id
        assert CertificateCustodian.objects.filter(
            certificate=record.certificate, user=record.signer
        ).exists()
        assert record.signer.role == User.Role.SIGNER
        if record.signer_organization_id != record.trader_id:
            broker_signed += 1
            assert record.signer_organization.kind == Organization.Kind.BROKER
            assert record.authorization.trader_id == record.trader_id
            assert record.authorization.broker_id == record.signer_organization_id
            assert record.authorization.status == Authorization.Status.ACTIVE
            assert record.agent.user_id == record.signer_id
            assert record.agent_number == record.agent.agent_number
        if record.outcome == SignatureRecord.Outcome.ACCEPTED:
            assert record.reason_code == ""
            assert record.declaration.number == record.declaration_number
            assert record.declaration.trader_id == record.trader_id
            assert record.declaration.document_sha256 == record.document_sha256
        else:
            assert record.declaration is None and record.reason_code
    assert 0 < broker_signed < 400


@pytest.mark.postgres
def test_the_audit_trail_is_sealed_verifies_and_the_sealer_extends_it(seeded):
    assert not AuditEvent.objects.filter(position__isnull=True).exists()
    assert AuditCheckpoint.objects.count() == 9  # 8 full (300 events each) and the last 100
    assert AuditTreeNode.objects.filter(level=8).count() == 2_500 // 256
    report = audit_verify()
    assert report.ok, report.first_problem()
    assert (report.events, report.checkpoints, report.unsealed) == (2_500, 9, 0)
    # Every signature and every sign-in has its event, as the services write them.
    signing = AuditEvent.objects.filter(action__in=["declaration.signed", "declaration.rejected"])
    assert set(signing.values_list("target_id", flat=True)) == {
        str(pk) for pk in SignatureRecord.objects.values_list("pk", flat=True)
    }
    assert AuditEvent.objects.filter(target_type="accounts.signinevent").count() == 600

    with transaction.atomic():
        event = audit_event_record(action="audit.verified", data={"events": report.events})
    audit_seal()  # (tests run the queued seal eagerly at the commit already)
    event.refresh_from_db()
    assert event.position == 2_500
    again = audit_verify()
    assert again.ok, again.first_problem()
    assert again.events == 2_501
