"""``seed_scale``: empty the benchmark database and run the steps in order, timing each."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from django.core.management.color import no_style
from django.db import connection

from accounts.models import Organization, SignInEvent, User
from audit.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditSealState,
    AuditTreeNode,
    AuditWitnessSignature,
    Flag,
)
from audit.models import Case as OfficerCase
from bench.seed import audit_trail, brokers, certificates, declarations, people, signins
from bench.seed.state import Seed, Sizes
from bench.truncate import truncate
from brokers.models import AgentStaff, Authorization, BrokerLicence
from signatures.models import (
    Certificate,
    CertificateCustodian,
    Declaration,
    RevocationList,
    SignatureRecord,
    TrustedIssuer,
)

__all__ = ["ScaleRefused", "Sizes", "database_check", "seed_scale"]


class ScaleRefused(Exception):
    """The database is not one this generator may empty."""


def database_check() -> str:
    """The database's name, or ``ScaleRefused`` if it is not a PostgreSQL scale/bench database."""
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "postgresql":
        raise ScaleRefused(f"seed_scale needs PostgreSQL (this is {connection.vendor}); set DATABASE_URL")
    # A test database (test_…) is created and dropped by the test runner itself.
    if "scale" not in name and "bench" not in name and not name.startswith("test_"):
        raise ScaleRefused(f"refusing to empty {name!r}: the database's name must contain 'scale' or 'bench'")
    return name


def empty(seed: Seed) -> str:
    tables = [
        m._meta.db_table
        for m in (
            Organization,
            User,
            AuditEvent,
            AuditCheckpoint,
            AuditTreeNode,
            AuditWitnessSignature,
            AuditSealState,  # the sealer's cursor: the trail starts empty again
            TrustedIssuer,
            RevocationList,
            Flag,
            OfficerCase,
        )
    ]
    with connection.cursor() as cursor:
        # CASCADE reaches every table that refers to these (staff, sessions, mandates, ...).
        truncate(cursor, tables, options="RESTART IDENTITY CASCADE")
    return "done"


def finish(seed: Seed) -> str:
    touched = [
        Organization,
        User,
        TrustedIssuer,
        BrokerLicence,
        AgentStaff,
        Certificate,
        CertificateCustodian,
        Authorization,
        Declaration,
        SignatureRecord,
        SignInEvent,
        AuditEvent,
        AuditCheckpoint,
        AuditTreeNode,
    ]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), touched):
            cursor.execute(statement)
        # Fresh statistics, or the planner guesses from empty tables until autovacuum comes;
        # VACUUM also sets the visibility map, without which no index-only scan is possible.
        for model in touched:
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    return "done"


def timed(seed: Seed, label: str, work: Callable[[], int | str]) -> None:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    seed.timings[label] = seconds
    count = f"{result:>12,} rows" if isinstance(result, int) else f"{result:>17}"
    rate = f"  ({result / seconds:,.0f} rows/s)" if isinstance(result, int) and seconds > 0 else ""
    seed.out(f"  {label:<34}{count}  {seconds:8.1f}s{rate}")


def seed_scale(
    sizes: Sizes,
    *,
    out: Callable[[str], None] = print,
    seed: int = 10,
    now: datetime.datetime | None = None,
) -> dict[str, float]:
    """Empty the benchmark database and fill it at the given sizes; returns seconds per step."""
    database_check()
    run = Seed(
        sizes=sizes,
        out=out,
        random_seed=seed,
        now=now or datetime.datetime.now(datetime.UTC).replace(microsecond=0),
    )
    total = time.perf_counter()
    out(
        f"seed_scale: {sizes.enterprises:,} enterprises, {sizes.brokers:,} brokers, {sizes.declarations:,} "
        f"declarations, {sizes.signins:,} sign-ins, {sizes.audit_events:,} audit events"
    )
    steps = [
        ("emptying the tables", empty),
        ("trusted issuers", certificates.issuers),
        ("organisations", people.organizations),
        ("users", people.people),
        ("broker licences and agents", brokers.licences),
        ("certificates and custodians", certificates.certificates),
        ("mandates", brokers.mandates),
        ("declarations", declarations.declarations),
        ("signature records", declarations.signature_records),
        ("sign-in events", signins.signins),
        ("audit events (sealed)", audit_trail.audit_trail),
        ("sequences, VACUUM ANALYZE", finish),
    ]
    for label, step in steps:
        timed(run, label, lambda step=step: step(run))
    run.timings["total"] = time.perf_counter() - total
    out(f"  {'total':<34}{'':>17}  {run.timings['total']:8.1f}s")
    return run.timings
