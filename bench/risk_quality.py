"""Risk quality (issue #24): how well the risk engine catches sign-ins by unexpected parties, and
how often it bothers honest people. A labelled, seeded simulation of one month
(``bench/risk_population.py``) goes through the production evaluation path, and the report
gives, per detector and for the combined result at each response threshold, the share of each
bad kind caught, the share of legitimate sign-ins affected, the officers' flags per day per 1,000
enterprises and how many of those flags were true.

    createdb -h 127.0.0.1 -U postgres csg_risk_quality_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/csg_risk_quality_bench \\
        .venv/bin/python bench/risk_quality.py            # 5,300 enterprises, 30,000 users
    ... bench/risk_quality.py --scale 0.1                 # a tenth of that, for trying changes

Needs a PostgreSQL database whose name contains "bench": its tables are emptied first. The
sign-ins (a warm-up of ``--warmup-days`` that gives every account a past, then the measured
month) are inserted as ``accounts.services.signins.signin_record`` writes them, in time order, and
the month is evaluated by ``risk.services.evaluation.signin_evaluate_batch``, the service the
workers' tasks and the sweep call, a batch of ``--batch`` at a time with the clock set to the
batch's time (flags' windows, reviews' expiry): detectors, score, flags, responses and "was this
you?" questions. Publishing Celery messages after the commits is stubbed out (counted, not sent):
the e-mails and audit sealing are not what is measured.

Definitions. A bad kind is *caught* at a threshold when one of its sign-ins reaches it (for
password spraying and brute force, one attempt of the campaign). The thresholds follow the
settings: *notify* is ``RISK_NOTIFY_SEVERITY`` and up; *step-up* and *lock* the severities whose
``RISK_RESPONSES_*`` include ``step_up`` and ``lock_account``. *Officer flags* are the flags of
medium or high severity (the queue officers work through; low ones are kept as the accounts'
record); a flag is *true* when one of the sign-ins it counts is bad.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

from bench.risk_population import BAD_KINDS, Parameters, Population

SEVERITY_RANK = {"": 0, "low": 1, "medium": 2, "high": 3}


@dataclass
class Outcome:
    """What the evaluation made of each measured sign-in, with its label."""

    label: str
    campaign: int
    scenario: str
    outcome: str
    findings: list[tuple[str, str, int | None]]  # (detector, severity, flag id)

    @property
    def severity(self) -> str:
        return max((s for _d, s, _f in self.findings), key=SEVERITY_RANK.__getitem__, default="")


def medium_or_high(outcome: Outcome) -> bool:
    return SEVERITY_RANK[outcome.severity] >= SEVERITY_RANK["medium"]


@dataclass
class Report:
    parameters: Parameters
    outcomes: list[Outcome]
    flags: dict[int, tuple[str, str]]  # flag id -> (kind, severity)
    enterprises: int
    timings: dict[str, float] = field(default_factory=dict)

    # --- thresholds --------------------------------------------------------------------------

    @staticmethod
    def _responding(response: str) -> str | None:
        """The lowest severity whose responses include ``response``."""
        from django.conf import settings

        for severity in ("low", "medium", "high"):
            if response in settings.RISK_RESPONSES.get(severity, []):
                return severity
        return None

    def thresholds(self) -> list[tuple[str, object]]:
        from django.conf import settings

        rows = [("combined: any finding (none)", lambda o: bool(o.findings))]
        for name, severity in (
            ("notify", settings.RISK_NOTIFY_SEVERITY),
            ("step-up", self._responding("step_up")),
            ("lock", self._responding("lock_account")),
        ):
            if severity is None:
                rows.append((f"combined: {name} (not configured)", lambda o: False))
            else:
                rank = SEVERITY_RANK[severity]
                rows.append(
                    (
                        f"combined: {name} ({severity} and up)",
                        lambda o, r=rank: SEVERITY_RANK[o.severity] >= r,
                    )
                )
        return rows

    def detector_rows(self) -> list[tuple[str, object]]:
        from django.conf import settings

        names = [path.rsplit(".", 1)[1] for path in settings.RISK_DETECTORS]
        return [(name, lambda o, n=name: any(d == n for d, _s, _f in o.findings)) for name in names]

    # --- figures -----------------------------------------------------------------------------

    def caught(self, kind: str, matches) -> float:
        campaigns: dict[int, bool] = {}
        for outcome in self.outcomes:
            if outcome.label == kind:
                campaigns[outcome.campaign] = campaigns.get(outcome.campaign, False) or matches(outcome)
        return 100 * sum(campaigns.values()) / max(len(campaigns), 1)

    def legitimate(self, matches) -> float:
        honest = [o for o in self.outcomes if o.label == "legitimate"]
        return 100 * sum(1 for o in honest if matches(o)) / max(len(honest), 1)

    def officer_flags(self, matches, kind: str | None = None) -> tuple[float, float]:
        """Flags per day per 1,000 enterprises, and the per cent of them that are true."""
        truth: dict[int, bool] = {}
        for outcome in self.outcomes:
            if not matches(outcome):
                continue
            for detector, _severity, flag in outcome.findings:
                if flag is None or (kind is not None and detector != kind):
                    continue
                if SEVERITY_RANK[self.flags.get(flag, ("", ""))[1]] < SEVERITY_RANK["medium"]:
                    continue
                truth[flag] = truth.get(flag, False) or outcome.label != "legitimate"
        per_day = len(truth) / self.parameters.days / (self.enterprises / 1000)
        return per_day, 100 * sum(truth.values()) / max(len(truth), 1)

    def scenario_affected(self, scenario: str, matches) -> tuple[int, int]:
        honest = [o for o in self.outcomes if o.scenario == scenario and o.label == "legitimate"]
        return sum(1 for o in honest if matches(o)), len(honest)

    def table(self) -> str:
        kinds = list(BAD_KINDS)
        head = ["row", *kinds, "legitimate", "officer flags/day/1,000", "true"]
        lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        for name, matches in [*self.detector_rows(), *self.thresholds()]:
            detector = None if name.startswith("combined") else name
            per_day, true = self.officer_flags(matches, detector)
            cells = [f"{self.caught(kind, matches):.1f}%" for kind in kinds]
            cells += [f"{self.legitimate(matches):.2f}%", f"{per_day:.2f}", f"{true:.0f}%"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def summary(self) -> str:
        """The issue's last line: lending and shared credentials caught at medium or above, the
        attackers with a stolen password at the step-up threshold."""
        rows = dict(self.thresholds())
        step_up = next(m for name, m in rows.items() if name.startswith("combined: step-up"))
        per_day, true = self.officer_flags(rows["combined: any finding (none)"])
        return (
            f"risk quality: caught lending {self.caught('lending', medium_or_high):.1f}%, "
            f"shared {self.caught('shared', medium_or_high):.1f}%, "
            f"naive {self.caught('naive', step_up):.1f}%, "
            f"VPN {self.caught('vpn', step_up):.1f}%, targeted {self.caught('targeted', step_up):.1f}%; "
            f"legitimate step-up {self.legitimate(step_up):.2f}%; officer flags {per_day:.2f}/day per "
            f"1,000 enterprises ({true:.0f}% true)"
        )

    def legitimate_causes(self) -> list[tuple[tuple[str, str, str], int]]:
        """What raised legitimate sign-ins to medium or high, most common first."""
        causes: dict[tuple[str, str, str], int] = {}
        for outcome in self.outcomes:
            if outcome.label != "legitimate":
                continue
            for detector, severity, _flag in outcome.findings:
                if SEVERITY_RANK[severity] >= SEVERITY_RANK["medium"]:
                    key = (outcome.scenario, detector, severity)
                    causes[key] = causes.get(key, 0) + 1
        return sorted(causes.items(), key=lambda item: -item[1])

    def high_on_legitimate(self) -> float:
        return self.legitimate(lambda o: o.severity == "high")


# --- the run ---------------------------------------------------------------------------------


def _organisations(population: Population) -> list[int]:
    from accounts.models import Organization
    from bench.seed.values import tax_code_for

    codes: list[str] = []
    used: set[str] = set()
    sequence = 3_000_000
    for _org in population.orgs:
        code = tax_code_for("87", sequence)
        while code in used:
            sequence += 1
            code = tax_code_for("87", sequence)
        used.add(code)
        codes.append(code)
        sequence += 1
    created = Organization.objects.bulk_create(
        [
            Organization(
                kind=org.kind,
                tax_code=codes[org.index],
                name=f"Quality {org.kind} {org.index}",
                status="active",
            )
            for org in population.orgs
        ],
        batch_size=2000,
    )
    return [org.pk for org in created]


def _users(population: Population, org_ids: list[int]) -> list[int]:
    from accounts.models import User

    joined = population.begin - datetime.timedelta(days=1)
    first: set[int] = set()
    users = []
    for person in population.people:
        owner = person.org not in first
        first.add(person.org)
        user = User(
            username=f"quality{person.index}",
            email=f"quality{person.index}@example.test",
            organization_id=org_ids[person.org],
            role="owner" if owner else "signer",
            date_joined=joined,
        )
        user.set_unusable_password()
        users.append(user)
    return [user.pk for user in User.objects.bulk_create(users, batch_size=2000)]


_SIGNIN_COLUMNS = (
    "user_id",
    "organization_id",
    "username_digest",
    "outcome",
    "ip",
    "network",
    "user_agent",
    "device_id",
    "occurred_at",
    "risk_score",
    "evaluated_at",
)


def _signin_rows(population: Population, signins, org_ids, user_ids):
    digests = {}
    for signin in signins:
        person = population.people[signin.person]
        if person.index not in digests:
            digests[person.index] = hashlib.sha256(f"quality{person.index}".encode()).hexdigest()
        yield (
            user_ids[person.index],
            org_ids[person.org],
            digests[person.index],
            signin.outcome,
            signin.ip,
            signin.network,
            signin.agent,
            signin.device,
            signin.at,
            None if signin.measured else 0,
            None if signin.measured else signin.at,
        )


def _signins(population: Population, signins, org_ids, user_ids, *, copy: bool) -> list[int]:
    """The sign-ins as ``signin_record`` writes them, in time order, so that their ids are in
    time order too. With ``copy``, into a benchmark's emptied PostgreSQL table with ``COPY`` (a
    million rows take minutes as inserts); else (the CI test) with ``bulk_create``."""
    from django.db import connection

    from accounts.models import SignInEvent
    from bench.seed.tables import Table

    rows = _signin_rows(population, signins, org_ids, user_ids)
    fixed = {"channel": "portal", "factor": "password", "risk_reasons": "[]"}
    if copy:
        Table(SignInEvent, _SIGNIN_COLUMNS, **fixed).copy(rows, rebuild_indexes=True)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {SignInEvent._meta.db_table}")
        ids = list(SignInEvent.objects.order_by("id").values_list("id", flat=True))
        if len(ids) != len(signins):
            raise RuntimeError("the sign-in table held other rows")
        return ids
    fixed["risk_reasons"] = []
    created = SignInEvent.objects.bulk_create(
        [SignInEvent(**fixed, **dict(zip(_SIGNIN_COLUMNS, row, strict=True))) for row in rows],
        batch_size=5000,
    )
    return [row.pk for row in created]


def _evaluate(ids: list[int], moments: list[datetime.datetime], batch: int, progress) -> None:
    """The measured sign-ins, in batches, with the clock at each batch's last sign-in."""
    import time_machine

    from risk.services.evaluation import signin_evaluate_batch

    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        moment = moments[start + len(chunk) - 1] + datetime.timedelta(microseconds=1)
        with time_machine.travel(moment, tick=False):
            result = signin_evaluate_batch(older_than=moment, after=chunk[0] - 1, limit=len(chunk))
        if result.evaluated != len(chunk):
            raise RuntimeError(f"a batch evaluated {result.evaluated} of {len(chunk)} sign-ins")
        if progress and (start // batch) % 200 == 0:
            progress(f"  evaluated {start + len(chunk):,} of {len(ids):,}")


def simulate(parameters: Parameters, *, batch: int = 100, copy: bool = False, progress=None) -> Report:
    """Seeds the population into the database (with ``copy``, an emptied PostgreSQL benchmark
    database), evaluates the month and reads the results."""
    timings = {}
    started = time.perf_counter()
    population = Population(parameters)
    signins = population.generate()
    timings["generate"] = time.perf_counter() - started
    started = time.perf_counter()
    org_ids = _organisations(population)
    user_ids = _users(population, org_ids)
    ids = _signins(population, signins, org_ids, user_ids, copy=copy)
    timings["insert"] = time.perf_counter() - started
    measured = [(pk, signin) for pk, signin in zip(ids, signins, strict=True) if signin.measured]
    if progress:
        progress(
            f"{len(population.orgs):,} enterprises, {len(population.people):,} users, "
            f"{len(signins) - len(measured):,} warm-up and {len(measured):,} measured sign-ins"
        )
    started = time.perf_counter()
    _evaluate([pk for pk, _s in measured], [s.at for _pk, s in measured], batch, progress)
    timings["evaluate"] = time.perf_counter() - started
    return _report(population, measured, timings)


def _report(population: Population, measured: list, timings: dict) -> Report:
    """The results of the measured sign-ins ``[(id, SignIn)]``, read back from the database."""
    from accounts.models import SignInEvent
    from audit.models import Flag

    reasons = {}
    ids = [pk for pk, _s in measured]
    for start in range(0, len(ids), 10_000):  # a statement takes at most 65,535 parameters
        chunk = ids[start : start + 10_000]
        reasons.update(SignInEvent.objects.filter(pk__in=chunk).values_list("pk", "risk_reasons"))
    outcomes = [
        Outcome(
            label=signin.label,
            campaign=signin.campaign,
            scenario=signin.scenario,
            outcome=signin.outcome,
            findings=[(r["detector"], r["severity"], r.get("flag")) for r in reasons[pk]],
        )
        for pk, signin in measured
    ]
    flags = {
        pk: (kind, severity) for pk, kind, severity in Flag.objects.values_list("pk", "kind", "severity")
    }
    return Report(population.p, outcomes, flags, len(population.orgs), timings)


def report_again(parameters: Parameters) -> Report:
    """The report of the run already in this benchmark database, with the same parameters: the
    labels are generated again (the simulation is seeded), nothing is evaluated again."""
    from accounts.models import SignInEvent

    population = Population(parameters)
    signins = population.generate()
    ids = list(SignInEvent.objects.order_by("id").values_list("id", flat=True))
    if len(ids) != len(signins):
        raise RuntimeError("the database holds another run (or none)")
    measured = [(pk, signin) for pk, signin in zip(ids, signins, strict=True) if signin.measured]
    return _report(population, measured, {})


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="population size, 1 = 5,300 enterprises and 30,000 users"
    )
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--days", type=int, default=30, help="the measured month")
    parser.add_argument("--warmup-days", type=int, default=56)
    parser.add_argument(
        "--batch", type=int, default=100, help="sign-ins per evaluation batch (RISK_BATCH_SIZE)"
    )
    parser.add_argument(
        "--report-again",
        action="store_true",
        help="print the report of the run already in the database (same options) without running it again",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from bench.quiet_database import quiet_benchmark_database

    published = quiet_benchmark_database()
    if published is None:
        return 2
    name = str(connection.settings_dict["NAME"])

    from accounts.models import Organization, SignInEvent, User
    from audit.models import AuditEvent, Flag
    from bench.truncate import truncate

    parameters = Parameters(seed=args.seed, days=args.days, warmup_days=args.warmup_days).scaled(args.scale)
    print(f"database: {name}; scale {args.scale}; {parameters}")
    if args.report_again:
        report = report_again(parameters)
    else:
        with connection.cursor() as cursor:
            tables = [m._meta.db_table for m in (SignInEvent, User, Organization, Flag, AuditEvent)]
            truncate(cursor, tables, options="RESTART IDENTITY CASCADE")
        report = simulate(parameters, batch=args.batch, copy=True, progress=print)
        evaluated = len(report.outcomes)
        print(
            f"generated in {report.timings['generate']:.0f}s, inserted in {report.timings['insert']:.0f}s, "
            f"evaluated {evaluated:,} sign-ins in {report.timings['evaluate']:.0f}s "
            f"({evaluated / report.timings['evaluate']:,.0f}/s); {len(published):,} messages not published\n"
        )
    print(report.table())
    print()
    for scenario in (
        "carrier_nat_neighbour",
        "broker_own_staff",
        "upgraded_browser",
        "accountant",
        "travel",
        "new_device",
        "phone_and_computer",
        "weekend_or_evening",
    ):
        affected, total = report.scenario_affected(scenario, medium_or_high)
        print(f"legitimate {scenario}: {affected:,} of {total:,} at medium or high")
    print("\nwhat raised legitimate sign-ins to medium or high (scenario, detector, severity):")
    for (scenario, detector, severity), count in report.legitimate_causes()[:12]:
        print(f"  {scenario or 'failed typo'}, {detector}, {severity}: {count:,}")
    print(f"high severity on legitimate sign-ins: {report.high_on_legitimate():.3f}% (goal <= 0.1%)")
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
