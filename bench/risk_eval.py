"""Risk-engine benchmark (DESIGN §9, issue #8): seed a sign-in history, evaluate new sign-ins.

    createdb -h 127.0.0.1 -U postgres csg_risk_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/csg_risk_bench .venv/bin/python bench/risk_eval.py \\
        --history 1000000 --users 20000 --organizations 5000 --events 20000

Needs a PostgreSQL database whose name contains "bench": its accounts tables are emptied first
(TRUNCATE ... CASCADE). Seeds organisations and users with bulk inserts and the history with
COPY, then evaluates ``--events`` new sign-ins twice, in ``--workers`` processes (each with
``--threads`` threads, default 1, each thread its own connection):

1. detectors only: load the sign-ins, their histories (``risk.selectors.risk_histories_get``, a
   batch at a time) and every detector of ``RISK_DETECTORS``; nothing written;
2. the whole evaluation: claim, detectors, score, flags, responses, "was this you?" questions
   and notifications. With ``--batch N`` (default 100) each process calls
   ``risk.services.evaluation.signin_evaluate_batch`` for N pending sign-ins at a time until none
   is left (what workers do under load: each task takes the backlog along, the sweep goes through
   the rest); with ``--batch 1`` it calls ``signin_evaluate`` per sign-in, one transaction each (a
   task with no backlog). Publishing Celery messages after the commits is stubbed out (counted, not sent):
   Redis is not what is measured.

Prints events/s per worker process (with the process's CPU time: on a shared machine the rest of
the wall time is waiting) and the p50/p99 time per event, with the targets (>= 1,000 events/s
per process, p99 < 20 ms); the CPU time per sign-in of the process and of its PostgreSQL backend
(read from /proc when the server is on this machine), which the machine's other load hardly
changes, so runs on a busy machine can be compared; for batches also each batch's time, which is
how long its sign-ins wait for their results. Then the EXPLAIN (ANALYZE, BUFFERS) plan of every
query of a sign-in's history (a batch of one), of a batch's history and of a batch's claim, and
whether each uses an index.

``--reuse-seed`` keeps a seed of the same sizes from a previous run (undoing what that run wrote)
instead of seeding again, for comparing changes back to back.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

TARGET_RATE = 1_000  # events/s per process
TARGET_P99_MS = 20.0
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "ecus-client/6.1 (Windows NT 10.0)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)


def _office(org: int) -> tuple[str, str]:
    """An organisation's office network and one address in it (public-looking, unique per org)."""
    a, b = divmod(org, 250)
    ip = f"{100 + a % 100}.{a // 100 + 1}.{b}.{10 + org % 200}"
    return ip, ".".join(ip.split(".")[:3]) + ".0/24"


def _home(user: int) -> tuple[str, str]:
    if user % 3 == 0:  # a third at home on IPv6
        ip = f"2402:800:{user % 65536:x}:{user // 65536 + 1:x}::{user % 251 + 1:x}"
        return ip, f"2402:800:{user % 65536:x}::/48"
    a, b = divmod(user, 250)
    ip = f"{20 + a % 80}.{a // 80 + 1}.{b}.{user % 250 + 1}"
    return ip, ".".join(ip.split(".")[:3]) + ".0/24"


def _reusable_seed(args) -> list | None:
    """The users of a seed of this size already in the database, with what a previous run wrote
    (flags, audit events, notifications, questions, sessions, its new sign-ins, the responses on
    the accounts) undone, so that the run sees what a fresh seed would; ``None`` if the database
    holds another seed. The history is the first ``--history`` ids (the seed restarts the
    sequence)."""
    from django.db import connection
    from django.db.models import Q

    from accounts.models import Notification, Organization, SignInEvent, SignInReview, User, UserSession
    from audit.models import AuditEvent, Flag

    organizations = Organization.objects.count()
    users = User.objects.count()
    history = SignInEvent.objects.filter(pk__lte=args.history).count()
    if (organizations, users, history) != (args.organizations, args.users, args.history):
        return None
    with connection.cursor() as cursor:
        # What the evaluation writes, emptied as the seed's own CASCADE does (the audit trail's
        # triggers refuse DELETE).
        written = [m._meta.db_table for m in (SignInReview, Notification, UserSession, Flag, AuditEvent)]
        from bench.truncate import truncate

        truncate(cursor, written, options="CASCADE")
    SignInEvent.objects.filter(pk__gt=args.history).delete()
    User.objects.filter(Q(step_up_required_at__isnull=False) | Q(suspended_at__isnull=False)).update(
        step_up_required_at=None, suspended_at=None, suspension_reason=""
    )
    with connection.cursor() as cursor:
        for model in (SignInEvent, User):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return list(User.objects.order_by("id").values_list("id", "organization_id", "username"))


def seed(args, now):
    from django.db import connection, transaction

    from accounts.models import Organization, SignInEvent, User

    if args.reuse_seed:
        users = _reusable_seed(args)
        if users is not None:
            print(
                f"reusing the seed already in the database ({args.history:,} sign-ins, {len(users):,} users)"
            )
            _past_flags(args, users, now)
            return users
    rng = random.Random(8)
    with connection.cursor() as cursor:
        tables = [m._meta.db_table for m in (SignInEvent, User, Organization)]
        from bench.truncate import truncate

        truncate(cursor, tables, options="RESTART IDENTITY CASCADE")
    started = time.perf_counter()
    brokers = max(1, args.organizations // 5)
    Organization.objects.bulk_create(
        [
            Organization(
                kind="broker" if n < brokers else "trader",
                tax_code=f"{n + 1:010d}",
                name=f"Bench {n}",
                status="active",
            )
            for n in range(args.organizations)
        ],
        batch_size=5000,
    )
    org_ids = list(Organization.objects.order_by("id").values_list("id", "kind", "tax_code"))
    joined = now - datetime.timedelta(days=400)
    User.objects.bulk_create(
        [
            User(
                username=f"bench{n}",
                password="!",  # noqa: S106 - Django's mark of an unusable password
                organization_id=org_ids[n % len(org_ids)][0],
                role="signer" if n % 4 else "owner",
                date_joined=joined,
            )
            for n in range(args.users)
        ],
        batch_size=5000,
    )
    users = list(User.objects.order_by("id").values_list("id", "organization_id", "username"))
    print(
        f"seeded {len(org_ids):,} organisations and {len(users):,} users "
        f"in {time.perf_counter() - started:.1f}s"
    )

    started = time.perf_counter()
    span = args.days * 86400
    columns = (
        "user_id, organization_id, username_digest, channel, outcome, factor, ip, network, user_agent, "
        "device_id, occurred_at, risk_score, risk_reasons, evaluated_at"
    )
    digests = {uid: hashlib.sha256(name.encode()).hexdigest() for uid, _org, name in users}
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {SignInEvent._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for n in range(args.history):
            uid, org, _name = users[n % len(users)]
            user_index = n % len(users)
            roll = rng.random()
            if roll < 0.6:
                ip, network = _office(org)
                device = f"{user_index:016x}{0:016x}"
            elif roll < 0.9:
                ip, network = _home(user_index)
                device = f"{user_index:016x}{1:016x}"
            elif roll < 0.998:
                ip, network = _home(user_index)
                device = f"{user_index:016x}{rng.randrange(2, 6):016x}"
            else:  # 0.2%: another organisation's device and office, the sharing the detectors look for
                other = rng.randrange(len(users))
                ip, network = _office(users[other][1])
                device = f"{other:016x}{0:016x}"
            failed = rng.random() < 0.05
            at = now - datetime.timedelta(seconds=rng.randrange(60, span))
            copy.write_row(
                (
                    uid,
                    org,
                    digests[uid],
                    "portal",
                    "failed" if failed else "succeeded",
                    "password",
                    ip,
                    network,
                    AGENTS[user_index % len(AGENTS)],
                    device,
                    at,
                    0,
                    "[]",
                    at,
                )
            )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        for model in (SignInEvent, User, Organization):  # what autovacuum does to an older history
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    print(
        f"history: {args.history:,} sign-ins (COPY) in {seconds:.1f}s ({args.history / seconds:,.0f} rows/s)"
    )
    _past_flags(args, users, now)
    return users


def _past_flags(args, users, now) -> None:
    """The flags of the history's past, one per hundred sign-ins, all answered or resolved, and the
    flag table analysed: a running system's table holds them and autovacuum keeps its statistics,
    so the flag statements are planned for a table of that size instead of an empty, never
    analysed one. Open flags are still rare in those statistics: each batch's lookup of its
    users' open flags reads the run's own open flags through ``flag_queue`` (docs/performance.md)."""
    from django.db import connection

    from audit.models import Flag

    rng = random.Random(12)
    span = args.days * 86400
    flags = []
    for _n in range(args.history // 100):
        uid, org, _name = users[rng.randrange(len(users))]
        seen = now - datetime.timedelta(seconds=rng.randrange(86400, span))
        flags.append(
            Flag(
                kind=rng.choice(("new_device", "new_network", "off_hours")),
                severity="low",
                status=rng.choice(("answered", "resolved")),
                user_id=uid,
                organization_id=org,
                evidence={},
                explanation="past",
                first_seen_at=seen,
                last_seen_at=seen,
            )
        )
    Flag.objects.bulk_create(flags, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Flag._meta.db_table}")


def new_events(args, users, now) -> list[int]:
    """``--events`` sign-ins happening now, mostly ordinary, some of each kind the detectors see."""
    from django.db import connection

    from accounts.models import SignInEvent

    rng = random.Random(20)
    rows = []
    for n in range(args.events):
        user_index = rng.randrange(len(users))
        uid, org, name = users[user_index]
        roll = rng.random()
        outcome = "succeeded"
        if roll < 0.80:
            ip, network = _office(org)
            device = f"{user_index:016x}{0:016x}"
        elif roll < 0.88:
            ip, network = _home(user_index)
            device = f"{user_index:016x}{rng.randrange(6, 9):016x}"  # a new device
        elif roll < 0.93:
            other = rng.randrange(len(users))
            ip, network = _office(users[other][1])
            device = f"{other:016x}{0:016x}"  # another organisation's device
        elif roll < 0.97:
            ip, network = f"192.0.2.{rng.randrange(1, 250)}", "192.0.2.0/24"
            device = f"{rng.getrandbits(128):032x}"
            outcome = "failed"  # a spray source
        else:
            ip, network = _office(org)
            device = f"{user_index:016x}{0:016x}"
            outcome = "failed"
        rows.append(
            SignInEvent(
                user_id=uid,
                organization_id=org,
                username_digest=hashlib.sha256(name.encode()).hexdigest(),
                channel="portal",
                outcome=outcome,
                ip=ip,
                network=network,
                user_agent=AGENTS[user_index % len(AGENTS)],
                device_id=device,
                occurred_at=now + datetime.timedelta(milliseconds=n),
            )
        )
    created = SignInEvent.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SignInEvent._meta.db_table}")
    return [event.pk for event in created]


def _detectors_only(ids, batch):
    """The read path: load the sign-ins, their histories, every detector; nothing written."""
    from accounts.models import SignInEvent
    from risk import findings
    from risk.selectors import risk_histories_get

    timings = []
    latencies = []
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        t0 = time.perf_counter()
        events = list(SignInEvent.objects.select_related("user", "organization").filter(pk__in=chunk))
        histories = risk_histories_get(events=events)
        for event in events:
            findings.evaluate(event, histories[event.id])
        seconds = time.perf_counter() - t0
        timings += [seconds / len(chunk)] * len(chunk)
        latencies.append(seconds)
    return timings, latencies


def _full_service(ids, batch):
    """What a worker does: ``signin_evaluate`` per sign-in (the task), or ``signin_evaluate_batch``
    (the sweep) claiming ``batch`` pending sign-ins at a time until none is left."""
    from django.utils import timezone

    from risk.services.evaluation import signin_evaluate, signin_evaluate_batch

    timings = []
    latencies = []
    if batch == 1:
        for event_id in ids:
            t0 = time.perf_counter()
            signin_evaluate(event_id=event_id)
            timings.append(time.perf_counter() - t0)
        return timings, timings
    older_than = timezone.now() + datetime.timedelta(days=2)
    after = 0
    while True:
        t0 = time.perf_counter()
        result = signin_evaluate_batch(older_than=older_than, after=after, limit=batch)
        seconds = time.perf_counter() - t0
        if result.claimed:
            # Each sign-in of a batch has its result when the batch commits: its latency is the
            # batch's time; its share of the work is the batch's time over its size.
            timings += [seconds / result.claimed] * result.claimed
            latencies.append(seconds)
        if result.claimed < batch:
            return timings, latencies
        after = result.last_id


def _backend_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) the PostgreSQL backend ``pid`` has used, from /proc; ``None``
    where the server is not on this machine or its processes cannot be read."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, the 14th and 15th fields of stat(5), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_backend():
    """This thread's PostgreSQL backend process id, if the server is on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), inet_server_addr()")
        backend, server = cursor.fetchone()
    # Only a server on this machine's loopback (or a socket) is a process we can read.
    return backend if server is None or str(server) in {"127.0.0.1", "::1"} else None


def _worker(job):
    kind, ids, batch, threads = job
    from django.db import connections

    connections.close_all()  # each process its own connection
    run = _detectors_only if kind == "detectors" else _full_service
    results: list = [None] * threads
    backends: list = [None] * threads
    backend_after: list = [None] * threads
    ready = threading.Barrier(threads + 1)

    def thread(number: int) -> None:
        # Each thread its own connection (Django's are per thread), as in a worker with a thread
        # pool; the batch path shares the pending sign-ins through SKIP LOCKED.
        try:
            backends[number] = _own_backend()
            ready.wait()
            results[number] = run(ids[number::threads], batch)
            backend_after[number] = _backend_cpu(backends[number])  # before its backend ends
        except BaseException:
            ready.abort()  # the others and the main thread stop waiting; the error is printed
            raise
        finally:
            connections.close_all()

    workers = [threading.Thread(target=thread, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    backend_cpu = [_backend_cpu(backend) for backend in backends]
    started, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    if None in results:
        raise RuntimeError("an evaluating thread failed (its error is above)")
    # The process's own CPU time against the wall clock: on a shared machine the difference is
    # waiting for PostgreSQL and for a core. The backends' CPU time is PostgreSQL's share of the
    # work; the two together per sign-in hardly depend on what else the machine is doing.
    cpu = time.process_time() - cpu
    database_cpu = (
        None if None in backend_cpu or None in backend_after else sum(backend_after) - sum(backend_cpu)
    )
    timings = [t for result in results for t in result[0]]
    latencies = [t for result in results for t in result[1]]
    return len(timings) / wall, timings, latencies, (cpu, database_cpu, wall)


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def run_pass(kind: str, ids: list[int], workers: int, batch: int, label: str, threads: int = 1) -> None:
    from django.db import connections

    chunks = [ids[n::workers] for n in range(workers)]
    if workers == 1:
        results = [_worker((kind, ids, batch, threads))]
    else:
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            # The batch path shares the pending sign-ins through SKIP LOCKED, not by chunks.
            results = pool.map(_worker, [(kind, chunk, batch, threads) for chunk in chunks])
    timings = [t for _rate, ts, _ls, _cpu in results for t in ts]
    latencies = [t for _rate, _ts, ls, _cpu in results for t in ls]
    p50, p99 = statistics.median(timings) * 1000, _p(timings, 0.99)
    for number, (rate, ts, _ls, (cpu, database_cpu, wall)) in enumerate(results):
        print(
            f"{label:<34} process {number}: {rate:>8,.0f} events/s ({len(ts):,} sign-ins)   "
            f"target {TARGET_RATE:,}  ratio {rate / TARGET_RATE:.2f}   "
            f"(its CPU {cpu:.1f} s of {wall:.1f} s)"
        )
        if ts:
            database = (
                "PostgreSQL backend n/a"
                if database_cpu is None
                else f"PostgreSQL backend {database_cpu / len(ts) * 1000:.3f} ms, "
                f"together {(cpu + database_cpu) / len(ts) * 1000:.3f} ms "
                f"({len(ts) / (cpu + database_cpu):,.0f} events per CPU-second)"
            )
            python = f"Python {cpu / len(ts) * 1000:.3f} ms"
            print(f"{label:<34} process {number}: CPU per event: {python}, {database}")
    print(
        f"{label:<34} per event: p50 {p50:.2f} ms, p99 {p99:.2f} ms   target p99 < {TARGET_P99_MS:.0f} ms  "
        f"ratio {TARGET_P99_MS / p99:.2f}"
    )
    if batch > 1:
        what = (
            "load to findings"
            if kind == "detectors"
            else "claim to commit: each sign-in's wait for its result"
        )
        print(
            f"{label:<34} per batch of {batch} ({what}): "
            f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {_p(latencies, 0.99):.1f} ms"
        )


def _print_plan(sql: str) -> None:
    import re

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    tables = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
    sizes = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a table name from the plan
            sizes.append(f"{table}, {cursor.fetchone()[0]:,} rows")
    sequential = "; ".join(sizes)
    print(f"\n-- {sql.strip()[:160]}{'…' if len(sql.strip()) > 160 else ''}")
    print(plan)
    print(f"-- uses an index: {'NO (sequential scan of ' + sequential + ')' if sequential else 'yes'}")


def explain(sample_ids: list[int], batch_ids: list[int]) -> None:
    """The plans of the per-sign-in history (the task's path) for a few sign-ins, then of the
    batch's statements (the sweep's path): the claim (in a transaction rolled back) and the
    history of ``batch_ids`` at once."""
    from django.db import connection, transaction
    from django.db.models import Q
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import SignInEvent
    from risk.selectors import risk_histories_get
    from risk.services.evaluation import signins_claim

    print("\nEXPLAIN of each detector query (ANALYZE, BUFFERS):")
    for event_id in sample_ids:
        event = SignInEvent.objects.select_related("user", "organization").get(pk=event_id)
        with CaptureQueriesContext(connection) as captured:
            risk_histories_get(events=[event])
        print(f"\n=== sign-in {event_id} ({event.outcome}, {len(captured.captured_queries)} queries) ===")
        for query in captured.captured_queries:
            _print_plan(query["sql"])
    events = list(SignInEvent.objects.select_related("user", "organization").filter(pk__in=batch_ids))
    with CaptureQueriesContext(connection) as captured:
        risk_histories_get(events=events)
    print(f"\n=== a batch of {len(events)} sign-ins ({len(captured.captured_queries)} queries) ===")
    for query in captured.captured_queries:
        _print_plan(query["sql"])
    with transaction.atomic():
        SignInEvent.objects.filter(pk__in=batch_ids).update(evaluated_at=None)
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            # Taken, then undone, so that the plan below claims the same sign-ins.
            signins_claim(
                claimable=Q(occurred_at__lt=timezone.now() + datetime.timedelta(days=2)), limit=len(batch_ids)
            )
            transaction.set_rollback(True)
        print("\n=== the batch's claim (rolled back) ===")
        for query in captured.captured_queries:
            if not query["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                _print_plan(query["sql"])
        transaction.set_rollback(True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--history", type=int, default=1_000_000, help="historical sign-ins to seed")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--organizations", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=20_000, help="new sign-ins to evaluate")
    parser.add_argument("--days", type=int, default=180, help="how far back the history reaches")
    parser.add_argument("--workers", type=int, default=1, help="evaluating processes")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="evaluating threads in each process, each with its own connection (a worker with a thread pool: "
        "one thread's Python runs while another waits for PostgreSQL)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=100,
        help="sign-ins per batch (signin_evaluate_batch, the sweep's path); 1: signin_evaluate per sign-in "
        "(the task's path)",
    )
    parser.add_argument("--skip-full", action="store_true", help="measure the detectors only")
    parser.add_argument(
        "--reuse-seed",
        action="store_true",
        help="keep the organisations, users and history already seeded if they have these sizes (what a "
        "previous run wrote is undone first); seed them otherwise",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from bench.quiet_database import quiet_benchmark_database

    published = quiet_benchmark_database()
    if published is None:
        return 2
    name = str(connection.settings_dict["NAME"])

    # New sign-ins at 10:00 on the last working day, Hà Nội time, so that the run does not depend
    # on the hour it is started at (at night, off_hours would flag every one of them).
    local = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh"))
    now = local.replace(hour=10, minute=0, second=0, microsecond=0) - datetime.timedelta(days=1)
    while now.isoweekday() > 5:
        now -= datetime.timedelta(days=1)
    print(
        f"database: {name}; history: {args.history:,} sign-ins over {args.users:,} users in "
        f"{args.organizations:,} organisations; new: {args.events:,}; workers: {args.workers}"
    )
    users = seed(args, now)
    ids = new_events(args, users, now)
    print(f"detectors: {', '.join(path.rsplit('.', 1)[1] for path in settings.RISK_DETECTORS)}\n")
    path = "signin_evaluate" if args.batch == 1 else f"signin_evaluate_batch({args.batch})"
    if args.threads > 1:
        print(f"each process evaluates in {args.threads} threads\n")
    run_pass("detectors", ids, args.workers, args.batch, "detectors only", args.threads)
    if not args.skip_full:
        run_pass("full", ids, args.workers, args.batch, f"{path} (all)", args.threads)
        from accounts.models import SignInEvent

        evaluated = SignInEvent.objects.filter(pk__in=ids, evaluated_at__isnull=False)
        flagged = evaluated.exclude(risk_score=0).count()
        print(
            f"evaluated {evaluated.count():,} new sign-ins, {flagged:,} with findings; "
            f"{len(published):,} messages not published"
        )
    from accounts.models import SignInEvent

    failed = SignInEvent.objects.filter(pk__in=ids, outcome="failed").values_list("pk", flat=True).first()
    explain([ids[0], failed] if failed else [ids[0]], ids[: max(args.batch, 100)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
