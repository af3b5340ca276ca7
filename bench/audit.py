"""Audit-trail benchmark (DESIGN §8, issue "Audit trail"): record, seal, verify, receipts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/csg_bench .venv/bin/python bench/audit.py --events 1000000

Receipt latency, the time from an event's commit until its receipt can be built, on a quiet system:

    DATABASE_URL=… REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/audit.py --latency 12

first as ``make run`` serves it (eager Celery: the client asks, a request seals first), then with a
real worker and beat started here (the sweep closes the due checkpoint).

Needs a database whose name contains "bench": its audit tables are emptied first. Prints each
figure with its target and the ratio to it (>= 1.00 meets the target).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

TARGET_SEAL = 20_000  # events/s
TARGET_VERIFY = 200_000  # events/s
TARGET_RECEIPT_P99_MS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--receipts", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=10_000, help="AUDIT_SEAL_BATCH for the run")
    parser.add_argument("--jobs", type=int, default=None, help="verification processes (default: CPUs)")
    parser.add_argument(
        "--latency", type=int, default=0, help="measure receipt latency over N events instead"
    )
    args = parser.parse_args()
    if args.latency:
        from bench.receipt_latency import measure

        return measure(args.latency)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from audit.canonical import SALT_SIZE
    from audit.models import AuditCheckpoint, AuditEvent, AuditSealState, AuditTreeNode, AuditWitnessSignature
    from audit.selectors import audit_receipt_build, complete_blocks
    from audit.services.sealing import audit_seal
    from audit.verification import audit_verify, default_jobs
    from audit.verify_receipt import canonical_json

    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        print(f"refusing: the database {name!r} is not a benchmark database (its name must contain 'bench')")
        return 2
    settings.AUDIT_SEAL_BATCH = args.batch
    call_command("migrate", verbosity=0)
    tables = [
        connection.ops.quote_name(model._meta.db_table)
        for model in (AuditWitnessSignature, AuditCheckpoint, AuditTreeNode, AuditEvent)
    ]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            print("the audit benchmark runs on PostgreSQL (set DATABASE_URL)")
            return 2
        from bench.truncate import truncate

        truncate(cursor, tables)
    AuditSealState.objects.update_or_create(pk=1, defaults={"tree_size": 0, "last_chain_hash": bytes(32)})

    print(f"database: {connection.vendor} {name}; events: {args.events:,}; seal batch: {args.batch:,}")
    now = timezone.now()
    started = time.perf_counter()
    columns = (
        "event_id, occurred_at, action, target_type, target_id, data, channel, ip, user_agent, request_id, "
        "network_salt"
    )
    # COPY: the ORM's per-object cost would dominate the run and is not what is measured here.
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {tables[-1]} ({columns}) FROM STDIN") as copy,
    ):
        for n in range(args.events):
            data = canonical_json(
                {
                    "declaration": f"10{n:010d}",
                    "kind": "import",
                    "outcome": "accepted",
                    "certificate_serial": "5403e1f3a8c9b2d4e6f70812",
                    "on_behalf_of": "0100686209",
                }
            ).decode()
            copy.write_row(
                (
                    uuid.uuid4(),
                    now,
                    "declaration.signed",
                    "signatures.declaration",
                    str(n),
                    data,
                    "api",
                    "203.0.113.42",
                    "ecus-client/6.1 (Windows NT 10.0)",
                    uuid.uuid4().hex,
                    os.urandom(SALT_SIZE),
                )
            )
    record_seconds = time.perf_counter() - started
    print(f"record (COPY)         {args.events / record_seconds:>12,.0f} events/s   ({record_seconds:.1f}s)")

    started = time.perf_counter()
    result = audit_seal()
    seal_seconds = time.perf_counter() - started
    seal_rate = result.sealed / seal_seconds
    print(
        f"seal                  {seal_rate:>12,.0f} events/s   "
        f"({seal_seconds:.1f}s, {len(result.checkpoints)} checkpoints)"
        f"   target {TARGET_SEAL:,}  ratio {seal_rate / TARGET_SEAL:.2f}"
    )

    started = time.perf_counter()
    args.jobs = args.jobs or default_jobs()
    report = audit_verify(jobs=args.jobs)
    verify_seconds = time.perf_counter() - started
    verify_rate = report.events / verify_seconds
    print(
        f"verify                {verify_rate:>12,.0f} events/s   "
        f"({verify_seconds:.1f}s, {args.jobs} jobs, ok={report.ok})"
        f"   target {TARGET_VERIFY:,}  ratio {verify_rate / TARGET_VERIFY:.2f}"
    )

    last = AuditCheckpoint.objects.order_by("-sequence").first()
    covered = last.tree_size
    rng = random.Random(6962)
    positions = [rng.randrange(covered) for _ in range(args.receipts)]
    events = {e.position: e for e in AuditEvent.objects.filter(position__in=positions)}
    complete_blocks.clear()  # start cold, as a freshly started web process would
    timings = []
    for position in positions:
        t0 = time.perf_counter()
        audit_receipt_build(event=events[position], disclose_network=True, checkpoint=last)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[max(0, int(len(timings) * 0.99) - 1)]
    print(
        f"receipt               p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {timings[-1]:.2f} ms"
        f" over {len(timings):,} at tree size {covered:,}"
        f"   target p99 <= {TARGET_RECEIPT_P99_MS} ms  ratio {TARGET_RECEIPT_P99_MS / p99:.2f}"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
