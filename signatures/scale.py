"""National-scale data for benchmarks (issue #10, DESIGN §10 ``seed_scale``).

Builds enterprises, brokers with their licences and agents, staff, certificates with custodians,
mandates, declarations with their signature records, a year of sign-ins and the audit trail, on
PostgreSQL with ``COPY``. Row by row through the services this would take days; the services'
rules are still what the rows look like (one certificate per organisation, broker signatures
with the broker's own certificate under an active mandate, refused attempts kept with their
reason, every sign-in and signature in the audit trail).

Two shortcuts, both deliberate:

* The stored detached signatures are stand-ins of the size of an ECDSA signature value, not
  verifiable CMS: nothing reads them back on the pages measured, and producing a million real
  ones would cost an hour of CPU.
* The audit trail is written **sealed** (``audit.services.BulkSealer``), exactly as
  ``audit.services.audit_seal`` would have left it: chain positions in time order,
  ``chain_hash = SHA-256(prev ‖ canonical)``, the RFC 6962 leaf hashes, the stored subtree nodes
  every ``NODE_STRIDE`` levels, and a checkpoint every ``AUDIT_CHECKPOINT_EVENTS`` events signed
  with the server's key (and one at the end), so ``verify_audit`` checks it and receipts can be
  built. Inserting ten million unsealed rows and then sealing them would rewrite every row once
  more (twice the I/O and a table of dead tuples) for the same result. Events the site writes
  later are sealed on top of it as usual.

Refuses any database that is not PostgreSQL with "scale" or "bench" in its name: it empties the
tables it fills (``TRUNCATE``, which the audit triggers, being row triggers, do not see).
"""

# Seeded (reproducible) pseudo-random data; nothing generated here is a secret.
# ruff: noqa: S311

from __future__ import annotations

import bisect
import datetime
import hashlib
import heapq
import itertools
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction
from stdnum.vn import mst

from accounts.models import Organization, SignInEvent, User
from accounts.services import network_of, username_digest
from audit.canonical import canonical_from_text, format_timestamp
from audit.models import (
    EVENT_FACT_FIELDS,
    AuditCheckpoint,
    AuditEvent,
    AuditTreeNode,
    AuditWitnessSignature,
    Flag,
)
from audit.models import Case as OfficerCase
from audit.services.sealing import BulkSealer
from audit.verify_receipt import canonical_json
from brokers.models import AgentStaff, Authorization, BrokerLicence
from signatures.models import (
    Certificate,
    CertificateCustodian,
    Declaration,
    RevocationList,
    SignatureRecord,
    TrustedIssuer,
)
from signatures.services import CHALLENGE_PREFIX


class ScaleRefused(Exception):
    """The database is not one this generator may empty."""


@dataclass(frozen=True)
class Sizes:
    enterprises: int = 100_000
    brokers: int = 2_000
    declarations: int = 1_000_000
    signins: int = 5_000_000
    audit_events: int = 10_000_000
    officers: int = 20
    days: int = 365


class SignatureRow(NamedTuple):
    """One signing attempt of the seed, from which its declaration, signature record and audit
    event are each written."""

    n: int
    declaration: int | None
    at: datetime.datetime
    org: Org
    kind: str
    number: str
    representation: str
    document: bytes
    digest: str
    signer: int
    signer_org: Org
    agent: int | None
    agent_number: str
    certificate: int
    fingerprint: str
    mandate: int | None
    stand_in: bytes
    reason: str
    channel: str


def database_check() -> str:
    """The database's name, or ``ScaleRefused`` if it is not a PostgreSQL scale/bench database."""
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "postgresql":
        raise ScaleRefused(f"seed_scale needs PostgreSQL (this is {connection.vendor}); set DATABASE_URL")
    # A test database (test_…) is created and dropped by the test runner itself.
    if "scale" not in name and "bench" not in name and not name.startswith("test_"):
        raise ScaleRefused(f"refusing to empty {name!r}: the database's name must contain 'scale' or 'bench'")
    return name


# --- realistic-looking values ------------------------------------------------------------------

# (tax-code prefix, province): the first two digits of an MST are the province that issued it.
PROVINCES = (
    ("01", "Hà Nội"),
    ("03", "TP. Hồ Chí Minh"),
    ("02", "Hải Phòng"),
    ("04", "Đà Nẵng"),
    ("23", "Bắc Ninh"),
    ("36", "Đồng Nai"),
    ("37", "Bình Dương"),
    ("57", "Quảng Ninh"),
    ("35", "Bà Rịa - Vũng Tàu"),
    ("08", "Hải Dương"),
    ("09", "Hưng Yên"),
    ("11", "Long An"),
    ("42", "Khánh Hòa"),
    ("46", "Thái Nguyên"),
    ("26", "Vĩnh Phúc"),
    ("28", "Thanh Hóa"),
    ("29", "Nghệ An"),
    ("18", "Lào Cai"),
    ("49", "Lạng Sơn"),
    ("18", "Cần Thơ"),
)
# Most enterprises are in the two big cities and the industrial provinces around them.
PROVINCE_WEIGHTS = (22, 26, 6, 4, 5, 6, 7, 3, 3, 3, 2, 3, 2, 1, 2, 1, 1, 1, 1, 2)
STREETS = (
    "Trần Hưng Đạo",
    "Lê Lợi",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Nguyễn Trãi",
    "Quang Trung",
    "Hùng Vương",
    "Phan Chu Trinh",
    "Lê Duẩn",
    "Võ Văn Kiệt",
)
FORMS = ("Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV", "Doanh nghiệp tư nhân")
TRADES = (
    "Thương mại",
    "Xuất nhập khẩu",
    "Sản xuất",
    "Dệt may",
    "Điện tử",
    "Thủy sản",
    "Gỗ",
    "Logistics",
    "Cơ khí",
    "Nông sản",
    "Hóa chất",
    "Thực phẩm",
    "Giày da",
    "Nhựa",
    "Thép",
)
WORDS = (
    "Hòa Bình",
    "Thành Công",
    "Phú Thịnh",
    "Hưng Thịnh",
    "Minh Long",
    "An Phát",
    "Việt Tiến",
    "Sao Mai",
    "Đại Dương",
    "Hồng Hà",
    "Trường Sơn",
    "Phương Nam",
    "Bình Minh",
    "Kim Ngân",
    "Tân Cảng",
    "Hải Âu",
    "Thiên Long",
    "Đông Á",
    "Rạng Đông",
    "Hoàng Gia",
)
FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
)
FAMILY_WEIGHTS = (38, 11, 9, 7, 5, 4, 4, 4, 3, 2, 2, 2, 2, 1, 1, 1)
MIDDLE = ("Văn", "Thị", "Minh", "Quốc", "Thanh", "Đức", "Ngọc", "Hữu", "Thu", "Hoàng")
GIVEN = (
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Minh",
    "Nam",
    "Ngọc",
    "Phong",
    "Phương",
    "Quân",
    "Quang",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Đạt",
)
TITLES = {
    "owner": "Giám đốc",
    "administrator": "Phó Giám đốc",
    "declarant": "Nhân viên xuất nhập khẩu",
    "signer": "Kế toán trưởng",
    "viewer": "Nhân viên",
}
ISSUERS = ("VNPT-CA", "Viettel-CA", "BkavCA", "FPT-CA", "CA2", "SmartSign", "SAFE-CA")
ISSUER_WEIGHTS = (35, 25, 12, 10, 8, 6, 4)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Edg/131.0",
    "ecus-client/6.1 (Windows NT 10.0)",
    "vnaccs-vcis/5.2 (Windows NT 6.1)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; SM-A556E) AppleWebKit/537.36 Chrome/131.0 Mobile",
)
REFUSALS = (
    "signature_invalid",
    "certificate_revoked",
    "certificate_expired",
    "certificate_not_bound",
    "signer_not_custodian",
    "no_active_authorization",
    "authorization_scope",
    "broker_licence_inactive",
)
FILLER_ACTIONS = (
    ("signin.signed_out", 60),
    ("session.ended", 8),
    ("officer.viewed", 10),
    ("user.contact_changed", 4),
    ("password.changed", 6),
    ("certificate.custodians_changed", 3),
    ("report.submitted", 3),
    ("flag.raised", 3),
    ("flag.answered", 2),
    ("authorization.changed", 1),
)


def tax_code_for(prefix: str, sequence: int) -> str:
    """A valid MST with the given province prefix: the first sequence number from ``sequence`` on
    whose check digit is a digit (one base in eleven has none)."""
    while True:
        base = f"{prefix}{sequence % 10_000_000:07d}"
        check = mst.calc_check_digit(base)
        if len(check) == 1:
            return base + check
        sequence += 1


def _zipf_cumulative(count: int, exponent: float) -> list[float]:
    """Cumulative weights of rank ``r`` ∝ 1 / (r + 1) ** exponent: a few enterprises file a large
    share of all declarations, as real importers do."""
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(count)))


def _pick(cumulative: list[float], rng: random.Random) -> int:
    return bisect.bisect_left(cumulative, rng.random() * cumulative[-1])


# --- COPY --------------------------------------------------------------------------------------

_MISSING = object()


class Table:
    """A model's table for ``COPY``: every concrete column, the ones not given per row filled once
    with the field's default (prepared for the database), so rows stay complete as models grow."""

    def __init__(self, model: type[models.Model], varying: tuple[str, ...], **fixed):
        self.model = model
        self.name = model._meta.db_table
        # An identity primary key not given is left to the sequence.
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key or f.name in varying or f.attname in varying
        ]
        by_name = {f.name: f for f in fields} | {f.attname: f for f in fields}
        self.columns = [f.column for f in fields]
        self._template: list = []
        for f in fields:
            if f.name in varying or f.attname in varying:
                self._template.append(None)
                continue
            value = fixed.get(f.name, fixed.get(f.attname, _MISSING))
            if value is _MISSING:
                # A non-null text field's default is "" even without an explicit default.
                value = f.get_default() if f.has_default() or not f.null else None
            self._template.append(f.get_db_prep_save(value, connection) if value is not None else None)
        self._positions = [self.columns.index(by_name[name].column) for name in varying]

    def rows(self, values: Iterable[tuple]) -> Iterator[list]:
        template, positions = self._template, self._positions
        for row in values:
            out = template.copy()
            for position, value in zip(positions, row, strict=True):
                out[position] = value
            yield out

    def copy(self, values: Iterable[tuple], *, rebuild_indexes: bool = False) -> int:
        """``COPY`` the rows in. With ``rebuild_indexes``, the table's secondary indexes and unique
        constraints are dropped first and built again after: one sorted build per index instead of
        millions of inserts at random places (event ids are random UUIDs) through a buffer cache
        far smaller than the indexes. The table is empty and nobody else uses it meanwhile."""
        count = 0
        with connection.cursor() as cursor:
            rebuild = _drop_secondary_indexes(cursor, self.name) if rebuild_indexes else []
            columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
            # Foreign keys are checked by row triggers: seven look-ups per signature record made the
            # load CPU-bound in PostgreSQL. The generator writes only ids it has just written (the
            # test of seed_scale checks every reference), so the checks are skipped for the load,
            # as pg_restore --disable-triggers does; this needs a superuser, else they run.
            replica = _set_replication_role(cursor, "replica")
            try:
                with cursor.cursor.copy(f"COPY {self.name} ({columns}) FROM STDIN") as copy:
                    for row in self.rows(values):
                        copy.write_row(row)
                        count += 1
            finally:
                if replica:
                    _set_replication_role(cursor, "DEFAULT")
            if rebuild:
                cursor.execute("SET maintenance_work_mem = '256MB'")
                for statement in rebuild:
                    cursor.execute(statement)
                cursor.execute("RESET maintenance_work_mem")
        return count


def _drop_secondary_indexes(cursor, table: str) -> list[str]:
    """Drop every index of ``table`` but its primary key's (unique constraints included); returns
    the statements that create them again, exactly as they were defined."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
        "AND contype = 'u'",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        [table],
    )
    indexes = cursor.fetchall()
    quote = connection.ops.quote_name
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {quote(name)}")
    return [definition for _name, definition in indexes] + [
        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
        for name, definition in constraints
    ]


def _set_replication_role(cursor, role: str) -> bool:
    try:
        with transaction.atomic():
            cursor.execute(f"SET session_replication_role = {role}")
    except DatabaseError:
        return False
    return True


# --- the generator -----------------------------------------------------------------------------


@dataclass
class Org:
    id: int
    kind: str
    tax_code: str
    name: str
    created_at: datetime.datetime
    owner: int = 0
    members: list[int] = field(default_factory=list)  # those who sign in
    signers: list[int] = field(default_factory=list)  # custodians of its certificate
    certificate: int = 0
    fingerprint: str = ""
    licence: int = 0
    licence_status: str = ""
    agents: list[tuple[int, int, str]] = field(default_factory=list)  # (user, agent staff, number)
    mandate: tuple[int, int, str] | None = None  # (authorization, broker org index, scope)
    office_ip: str = ""


class ScaleSeeder:
    """One run of the generator. ``run()`` returns seconds per table and prints progress."""

    def __init__(self, sizes: Sizes, *, out: Callable[[str], None] = print, seed: int = 10, now=None):
        self.sizes = sizes
        self.out = out
        self.seed = seed
        self.now = now or datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        self.start = self.now - datetime.timedelta(days=sizes.days)
        self.timings: dict[str, float] = {}
        self.orgs: list[Org] = []
        self.users: list[tuple[int, int, str]] = []  # (id, org index or -1, username)
        self.officers: list[int] = []
        self.setup_events: list[tuple] = []  # (time, action, actor, org, target type, id, data)
        self.trader_rank: list[float] = []
        self.declaration_owner_rank: list[int] = []

    # -- helpers --

    def _timed(self, label: str, work: Callable[[], int | str]) -> None:
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        self.timings[label] = seconds
        count = f"{result:>12,} rows" if isinstance(result, int) else f"{result:>17}"
        rate = f"  ({result / seconds:,.0f} rows/s)" if isinstance(result, int) and seconds > 0 else ""
        self.out(f"  {label:<34}{count}  {seconds:8.1f}s{rate}")

    def _person(self, rng: random.Random) -> tuple[str, str]:
        family = rng.choices(FAMILY, FAMILY_WEIGHTS)[0]
        return f"{family} {rng.choice(MIDDLE)}", rng.choice(GIVEN)

    def run(self) -> dict[str, float]:
        database_check()
        total = time.perf_counter()
        s = self.sizes
        self.out(
            f"seed_scale: {s.enterprises:,} enterprises, {s.brokers:,} brokers, {s.declarations:,} "
            f"declarations, {s.signins:,} sign-ins, {s.audit_events:,} audit events"
        )
        self._timed("emptying the tables", self.empty)
        self._timed("trusted issuers", self.issuers)
        self._timed("organisations", self.organizations)
        self._timed("users", self.people)
        self._timed("broker licences and agents", self.licences)
        self._timed("certificates and custodians", self.certificates)
        self._timed("mandates", self.mandates)
        self._timed("declarations", self.declarations)
        self._timed("signature records", self.signature_records)
        self._timed("sign-in events", self.signins)
        self._timed("audit events (sealed)", self.audit_trail)
        self._timed("sequences, VACUUM ANALYZE", self.finish)
        self.timings["total"] = time.perf_counter() - total
        self.out(f"  {'total':<34}{'':>17}  {self.timings['total']:8.1f}s")
        return self.timings

    # -- steps --

    def empty(self) -> str:
        tables = [
            m._meta.db_table
            for m in (
                Organization,
                User,
                AuditEvent,
                AuditCheckpoint,
                AuditTreeNode,
                AuditWitnessSignature,
                TrustedIssuer,
                RevocationList,
                Flag,
                OfficerCase,
            )
        ]
        with connection.cursor() as cursor:
            # CASCADE reaches every table that refers to these (staff, sessions, mandates, ...).
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        return "done"

    def issuers(self) -> int:
        rng = random.Random(self.seed)
        self.issuer_keys = []
        rows = []
        for index, name in enumerate(ISSUERS):
            key = ec.generate_private_key(ec.SECP256R1())
            subject = x509.Name(
                [
                    x509.NameAttribute(x509.NameOID.COMMON_NAME, name),
                    x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, name),
                    x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "VN"),
                ]
            )
            cert = _certificate(
                subject,
                subject,
                key.public_key(),
                key,
                ca=True,
                serial=rng.getrandbits(64),
                not_before=self.now - datetime.timedelta(days=3650),
                years=20,
            )
            der = cert.public_bytes(serialization.Encoding.DER)
            self.issuer_keys.append((index + 1, key, subject, name))
            rows.append(
                TrustedIssuer(
                    pk=index + 1,
                    name=name,
                    subject=cert.subject.rfc4514_string(),
                    fingerprint_sha256=hashlib.sha256(der).hexdigest(),
                    der=der,
                    not_before=cert.not_valid_before_utc,
                    not_after=cert.not_valid_after_utc,
                    status=TrustedIssuer.Status.ACTIVE,
                )
            )
        TrustedIssuer.objects.bulk_create(rows)
        return len(rows)

    def organizations(self) -> int:
        rng = random.Random(self.seed + 1)
        s = self.sizes
        count = s.enterprises + s.brokers
        prefixes = rng.choices(range(len(PROVINCES)), PROVINCE_WEIGHTS, k=count)
        sequences = rng.sample(range(100_000, 9_000_000), count)
        used: set[str] = set()
        span = 6 * 365 * 86400
        founded = self.now - datetime.timedelta(days=6 * 365 + 30)

        def values():
            for n in range(count):
                kind = "trader" if n < s.enterprises else "broker"
                prefix, province = PROVINCES[prefixes[n]]
                code = tax_code_for(prefix, sequences[n])
                while code in used:
                    code = tax_code_for(prefix, int(code[2:9]) + 1)
                used.add(code)
                word = rng.choice(WORDS)
                if kind == "trader":
                    name = f"{rng.choice(FORMS)} {rng.choice(TRADES)} {word} {code[-4:]}"
                else:
                    name = f"Công ty {rng.choice(('TNHH', 'Cổ phần'))} Đại lý Hải quan {word} {code[-4:]}"
                created = founded + datetime.timedelta(seconds=rng.randrange(span))
                family, given = self._person(rng)
                status = rng.choices(("active", "pending_verification", "suspended"), (97, 2, 1))[0]
                level = rng.choices(
                    ("prioritised", "high", "moderate", "poor", "non_compliant", "unclassified"),
                    (2, 30, 45, 8, 2, 13),
                )[0]
                self.orgs.append(Org(n + 1, kind, code, name, created))
                yield (
                    n + 1,
                    kind,
                    code,
                    name,
                    f"{rng.randrange(1, 400)} {rng.choice(STREETS)}, {province}",
                    province,
                    f"+84{rng.choice('35789')}{rng.randrange(10**8):08d}",
                    f"xnk@mst{code}.vn.example",
                    f"{family} {given}",
                    f"0{rng.randrange(1, 97):02d}{rng.randrange(10**9):09d}",
                    status,
                    created if status == "active" else None,
                    level,
                    level,
                    rng.choices(("each", "daily"), (80, 20))[0],
                    created,
                    created,
                )

        table = Table(
            Organization,
            (
                "id",
                "kind",
                "tax_code",
                "name",
                "address",
                "province",
                "phone",
                "email",
                "legal_representative_name",
                "legal_representative_id_number",
                "status",
                "verified_at",
                "compliance_level",
                "compliance_computed_level",
                "signature_notice",
                "created_at",
                "updated_at",
            ),
            compliance_reasons=[],
        )
        written = table.copy(values())
        # The biggest filers are spread over the id range, not the first ids.
        ranks = list(range(s.enterprises))
        rng.shuffle(ranks)
        self.trader_by_rank = ranks  # rank -> index into self.orgs
        self.trader_cumulative = _zipf_cumulative(s.enterprises, 0.85)
        for org in self.orgs:
            self.setup_events.append(
                (
                    org.created_at,
                    "organization.created",
                    None,
                    org.id,
                    "accounts.organization",
                    org.id,
                    {"kind": org.kind, "tax_code": org.tax_code},
                )
            )
        return written

    def people(self) -> int:
        rng = random.Random(self.seed + 2)
        s = self.sizes
        rank_of = {index: rank for rank, index in enumerate(self.trader_by_rank)}
        rows = []
        for index, org in enumerate(self.orgs):
            roles = ["owner"]
            if org.kind == "trader":
                rank = rank_of[index]
                # Big filers have many signers and declarants; a small one has its owner and a signer.
                extra = int(60 / (rank + 1) ** 0.5)
                roles += ["signer"] * (1 + extra // 2) + ["declarant"] * (extra - extra // 2)
                if rng.random() < 0.3:
                    roles.append("declarant")
                if rng.random() < 0.1:
                    roles.append(rng.choice(("administrator", "viewer")))
            else:
                agents = min(60, 2 + int(rng.paretovariate(1.3)))
                roles += ["signer"] * agents
            for role in roles:
                rows.append((index, role))
        for _n in range(s.officers):
            rows.append((-1, "officer"))
        joined_span = 86400 * 300

        def values():
            for uid, (index, role) in enumerate(rows, start=1):
                family, given = self._person(rng)
                org = self.orgs[index] if index >= 0 else None
                username = f"{org.tax_code}.{role}{uid}" if org else f"canbo.hq{uid}"
                self.users.append((uid, index, username))
                if org is not None:
                    if role == "owner":
                        org.owner = uid
                    if role != "viewer":
                        org.members.append(uid)
                    if role == "signer":
                        org.signers.append(uid)
                else:
                    self.officers.append(uid)
                joined = (org.created_at if org else self.start) + datetime.timedelta(
                    seconds=rng.randrange(joined_span)
                )
                yield (
                    uid,
                    username,
                    "!",
                    given,
                    family,
                    f"{username}@example.vn",
                    role,
                    org.id if org else None,
                    f"+84{rng.choice('35789')}{rng.randrange(10**8):08d}",
                    f"0{rng.randrange(1, 97):02d}{uid:09d}",
                    TITLES.get(role, "Công chức hải quan"),
                    joined,
                    joined,
                    joined,
                    role == "officer",
                )

        # "!" is Django's mark of an unusable password: nobody signs in as a seeded user until a
        # benchmark gives the few it needs a password of its own.
        table = Table(
            User,
            (
                "id",
                "username",
                "password",
                "first_name",
                "last_name",
                "email",
                "role",
                "organization_id",
                "phone",
                "national_id_number",
                "job_title",
                "date_joined",
                "email_verified_at",
                "password_changed_at",
                "is_staff",
            ),
        )
        written = table.copy(values())
        for uid, index, _username in self.users:
            if index >= 0:
                org = self.orgs[index]
                self.setup_events.append(
                    (
                        org.created_at + datetime.timedelta(minutes=5 + uid % 600),
                        "user.created",
                        org.owner if org.owner != uid else None,
                        org.id,
                        "accounts.user",
                        uid,
                        {"user": str(uid)},
                    )
                )
        from django.contrib.auth.models import Group

        from audit.services.officer_groups_pending import officer_groups_sync

        officer_groups_sync()
        groups = list(Group.objects.filter(name__in=["officer investigator", "officer administrator"]))
        if groups:
            User.groups.through.objects.bulk_create(
                [
                    User.groups.through(user_id=uid, group_id=groups[n % len(groups)].pk)
                    for n, uid in enumerate(self.officers)
                ]
            )
        return written

    def licences(self) -> int:
        rng = random.Random(self.seed + 3)
        brokers = [org for org in self.orgs if org.kind == "broker"]
        licence_rows, agent_rows = [], []
        agent_id = 0
        for number, org in enumerate(brokers, start=1):
            issued = (org.created_at + datetime.timedelta(days=rng.randrange(10, 120))).date()
            status = rng.choices(("active", "suspended", "revoked"), (95, 3, 2))[0]
            licence_rows.append(
                (
                    number,
                    org.id,
                    f"{number:05d}/{issued.year}/TCHQ-GSQL",
                    "Tổng cục Hải quan",
                    issued,
                    status,
                    "" if status == "active" else "Không nộp báo cáo hoạt động ba kỳ liên tiếp",
                )
            )
            org.licence, org.licence_status = number, status
            self.setup_events.append(
                (
                    org.created_at + datetime.timedelta(days=1),
                    "licence.granted",
                    None,
                    org.id,
                    "brokers.brokerlicence",
                    number,
                    {"number": f"{number:05d}/{issued.year}/TCHQ-GSQL"},
                )
            )
            for uid in org.signers:
                agent_id += 1
                agent_number = f"DL-{number:05d}-{agent_id:06d}"
                agent_rows.append((agent_id, uid, number, agent_number, issued))
                org.agents.append((uid, agent_id, agent_number))
                self.setup_events.append(
                    (
                        org.created_at + datetime.timedelta(days=2, minutes=agent_id % 900),
                        "agent.registered",
                        org.owner,
                        org.id,
                        "brokers.agentstaff",
                        agent_id,
                        {"agent_number": agent_number},
                    )
                )
        self.brokers = brokers
        written = Table(
            BrokerLicence,
            ("id", "organization_id", "number", "issued_by", "issued_on", "status", "status_reason"),
        ).copy(licence_rows)
        written += Table(AgentStaff, ("id", "user_id", "licence_id", "agent_number", "joined_on")).copy(
            agent_rows
        )
        return written

    def certificates(self) -> int:
        rng = random.Random(self.seed + 4)
        # A handful of holder keys: only the certificates' fingerprints must differ, and key
        # generation would otherwise dominate this step.
        holder_keys = [ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(16)]
        issuer_weights = ISSUER_WEIGHTS

        def values():
            for org in self.orgs:
                issuer_id, issuer_key, issuer_name, _label = self.issuer_keys[
                    rng.choices(range(len(self.issuer_keys)), issuer_weights)[0]
                ]
                subject = x509.Name(
                    [
                        x509.NameAttribute(x509.NameOID.USER_ID, f"MST:{org.tax_code}"),
                        x509.NameAttribute(x509.NameOID.COMMON_NAME, _common_name(org.name)),
                        x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "VN"),
                    ]
                )
                serial = rng.getrandbits(120) | (1 << 120)
                not_before = max(org.created_at, self.now - datetime.timedelta(days=rng.randrange(30, 700)))
                cert = _certificate(
                    subject,
                    issuer_name,
                    rng.choice(holder_keys),
                    issuer_key,
                    ca=False,
                    serial=serial,
                    not_before=not_before,
                    years=3,
                )
                der = cert.public_bytes(serialization.Encoding.DER)
                fingerprint = hashlib.sha256(der).hexdigest()
                org.certificate, org.fingerprint = org.id, fingerprint
                family, given = self._person(rng)
                bound = not_before + datetime.timedelta(hours=2)
                self.setup_events.append(
                    (
                        bound,
                        "certificate.bound",
                        org.owner,
                        org.id,
                        "signatures.certificate",
                        org.id,
                        {"fingerprint": fingerprint, "serial": format(serial, "x")},
                    )
                )
                yield (
                    org.id,
                    org.id,
                    issuer_id,
                    der,
                    fingerprint,
                    format(serial, "x"),
                    cert.subject.rfc4514_string(),
                    org.tax_code,
                    cert.issuer.rfc4514_string(),
                    cert.not_valid_before_utc,
                    cert.not_valid_after_utc,
                    f"{family} {given}",
                    f"0{rng.randrange(1, 97):02d}{org.id:09d}",
                    "Giám đốc",
                    "active",
                    org.owner,
                    not_before,
                    bound,
                    bound,
                    f"{CHALLENGE_PREFIX}:{org.tax_code}:{fingerprint[:16]}:{rng.getrandbits(128):032x}",
                    not_before + datetime.timedelta(minutes=30),
                )

        table = Table(
            Certificate,
            (
                "id",
                "organization_id",
                "issuer_id",
                "der",
                "fingerprint_sha256",
                "serial_number",
                "subject",
                "subject_tax_code",
                "issuer_name",
                "not_before",
                "not_after",
                "signer_name",
                "signer_id_number",
                "signer_title",
                "status",
                "uploaded_by_id",
                "uploaded_at",
                "bound_at",
                "status_changed_at",
                "challenge",
                "challenge_expires_at",
            ),
        )
        written = table.copy(values())

        def custodians():
            number = 0
            for org in self.orgs:
                for uid in org.signers:
                    number += 1
                    yield (number, org.certificate, uid, org.owner, org.created_at)

        written += Table(
            CertificateCustodian, ("id", "certificate_id", "user_id", "added_by_id", "added_at")
        ).copy(custodians())
        return written

    def mandates(self) -> int:
        rng = random.Random(self.seed + 5)
        # Traders mandate brokers whose licence is active; popular brokers serve many traders.
        active_brokers = [i for i, org in enumerate(self.brokers) if org.licence_status == "active"]
        broker_cumulative = _zipf_cumulative(len(active_brokers), 0.9)
        today = self.now.date()

        def values():
            number = 0
            for org in self.orgs:
                if org.kind != "trader" or rng.random() > 0.6:
                    continue
                for ended in (True, False) if rng.random() < 0.15 else (False,):
                    number += 1
                    broker_index = active_brokers[_pick(broker_cumulative, rng)]
                    broker = self.brokers[broker_index]
                    scope = rng.choices(("import", "export", "both"), (45, 25, 30))[0]
                    invited = max(org.created_at, self.start - datetime.timedelta(days=rng.randrange(0, 400)))
                    if ended:
                        invited -= datetime.timedelta(days=400)
                    valid_from = (invited + datetime.timedelta(days=3)).date()
                    valid_until = today + datetime.timedelta(days=rng.randrange(30, 700))
                    status = "active"
                    ended_at = None
                    if ended:
                        valid_until = valid_from + datetime.timedelta(days=rng.randrange(60, 360))
                        status = rng.choice(("revoked", "expired"))
                        ended_at = datetime.datetime.combine(
                            valid_until, datetime.time(17), tzinfo=datetime.UTC
                        )
                    else:
                        org.mandate = (number, broker_index, scope)
                    accepted = invited + datetime.timedelta(hours=rng.randrange(1, 72))
                    self.setup_events.append(
                        (
                            invited,
                            "authorization.granted",
                            org.owner,
                            org.id,
                            "brokers.authorization",
                            number,
                            {"broker": broker.tax_code, "contract": f"HĐ-{number:07d}"},
                        )
                    )
                    self.setup_events.append(
                        (
                            accepted,
                            "authorization.accepted",
                            broker.owner,
                            broker.id,
                            "brokers.authorization",
                            number,
                            {"trader": org.tax_code},
                        )
                    )
                    yield (
                        number,
                        org.id,
                        broker.id,
                        scope in ("import", "both"),
                        scope in ("export", "both"),
                        rng.random() < 0.05,
                        rng.choice(("direct", "direct", "indirect")),
                        f"HĐ-{number:07d}/{invited.year}",
                        valid_from,
                        valid_until,
                        "Giám đốc",
                        status,
                        "trader",
                        org.owner,
                        invited,
                        invited + datetime.timedelta(days=21),
                        broker.owner,
                        accepted,
                        org.owner if ended_at else None,
                        "trader" if ended_at else "",
                        ended_at,
                    )

        table = Table(
            Authorization,
            (
                "id",
                "trader_id",
                "broker_id",
                "scope_import",
                "scope_export",
                "scope_transit",
                "representation",
                "contract_number",
                "valid_from",
                "valid_until",
                "grantor_title",
                "status",
                "initiated_by",
                "invited_by_id",
                "invited_at",
                "invitation_expires_at",
                "responded_by_id",
                "responded_at",
                "ended_by_id",
                "ended_by_party",
                "ended_at",
            ),
        )
        return table.copy(values())

    # The declarations, their signature records and the records' audit events are three passes
    # over one deterministic stream (one COPY at a time per connection).
    def _signature_stream(self) -> Iterator[SignatureRow]:
        rng = random.Random(self.seed + 6)
        count = self.sizes.declarations
        step = self.sizes.days * 86400 / max(count, 1)
        start = self.start.timestamp()
        declaration_id = 0
        for n in range(count):
            at = datetime.datetime.fromtimestamp(start + (n + rng.random()) * step, datetime.UTC)
            org = self.orgs[self.trader_by_rank[_pick(self.trader_cumulative, rng)]]
            roll = rng.random()
            kind = "export" if rng.random() < 0.38 else "import"
            if org.mandate and roll < 0.45:
                mandate, broker_index, scope = org.mandate
                broker = self.brokers[broker_index]
                signer, agent, agent_number = rng.choice(broker.agents)
                signer_org, certificate, fingerprint = broker, broker.certificate, broker.fingerprint
                channel, representation = "api", "direct"
                if scope != "both":
                    kind = scope
            else:
                mandate, agent, agent_number = None, None, ""
                signer = rng.choice(org.signers)
                signer_org, certificate, fingerprint = org, org.certificate, org.fingerprint
                channel, representation = ("portal" if rng.random() < 0.6 else "api"), ""
            reason = ""
            if rng.random() < 0.04:
                reason = rng.choice(REFUSALS)
            number = f"{1 if kind == 'import' else 3}0{n + 1:010d}"
            document = (
                f'<ToKhai so="{number}" loai="{kind}"><NguoiKhai mst="{org.tax_code}"/>'
                f"<TriGia tienTe='USD'>{rng.randrange(500, 2_000_000)}</TriGia></ToKhai>"
            ).encode()
            digest = hashlib.sha256(document).hexdigest()
            # A stand-in of the size of an ECDSA signature value (see the module's docstring).
            stand_in = (
                b"\x30\x46" + hashlib.sha256(document + b"r").digest() + hashlib.sha256(document).digest()
            )
            if not reason:
                declaration_id += 1
            yield SignatureRow(
                n=n + 1,
                declaration=declaration_id if not reason else None,
                at=at,
                org=org,
                kind=kind,
                number=number,
                representation=representation,
                document=document,
                digest=digest,
                signer=signer,
                signer_org=signer_org,
                agent=agent,
                agent_number=agent_number,
                certificate=certificate,
                fingerprint=fingerprint,
                mandate=mandate,
                stand_in=stand_in,
                reason=reason,
                channel=channel,
            )

    def declarations(self) -> int:
        def values():
            for row in self._signature_stream():
                if row.declaration is not None:
                    yield (
                        row.declaration, row.org.id, row.number, row.kind, row.representation,
                        row.document, row.digest, row.at,
                    )  # fmt: skip

        return Table(
            Declaration,
            (
                "id",
                "trader_id",
                "number",
                "kind",
                "representation",
                "document",
                "document_sha256",
                "created_at",
            ),
        ).copy(values(), rebuild_indexes=True)

    def signature_records(self) -> int:
        def values():
            for row in self._signature_stream():
                yield (
                    row.n,
                    row.declaration,
                    row.number,
                    row.kind,
                    row.org.id,
                    row.org.tax_code,
                    row.signer,
                    row.signer_org.id,
                    row.agent,
                    row.agent_number,
                    row.certificate,
                    row.fingerprint,
                    row.mandate,
                    row.representation,
                    row.stand_in,
                    row.digest,
                    "rejected" if row.reason else "accepted",
                    row.reason,
                    row.channel,
                    row.at,
                    None if row.reason else row.at + datetime.timedelta(seconds=5),
                )

        return Table(
            SignatureRecord,
            (
                "id",
                "declaration_id",
                "declaration_number",
                "declaration_kind",
                "trader_id",
                "trader_tax_code",
                "signer_id",
                "signer_organization_id",
                "agent_id",
                "agent_number",
                "certificate_id",
                "certificate_fingerprint",
                "authorization_id",
                "representation",
                "signature",
                "document_sha256",
                "outcome",
                "reason_code",
                "channel",
                "created_at",
                "noticed_at",
            ),
        ).copy(values(), rebuild_indexes=True)

    def _signin_stream(self) -> Iterator[tuple]:
        rng = random.Random(self.seed + 7)
        count = self.sizes.signins
        step = self.sizes.days * 86400 / max(count, 1)
        start = self.start.timestamp()
        members = [uid for uid, index, _name in self.users if index >= 0]
        names = {uid: name for uid, _index, name in self.users}
        org_of = {uid: index for uid, index, _name in self.users}
        digests: dict[int, str] = {}
        for n in range(count):
            at = datetime.datetime.fromtimestamp(start + (n + rng.random()) * step, datetime.UTC)
            if rng.random() < 0.6:
                org = self.orgs[self.trader_by_rank[_pick(self.trader_cumulative, rng)]]
                uid = rng.choice(org.members)
            else:
                uid = rng.choice(members)
                org = self.orgs[org_of[uid]]
            roll = rng.random()
            if roll < 0.65:  # at the office
                a, b = divmod(org.id, 250)
                ip = f"{100 + a % 100}.{a // 100 % 250 + 1}.{b}.{10 + uid % 200}"
                device = f"{uid:016x}{0:016x}"
            elif roll < 0.9:  # at home, a third of them on IPv6
                if uid % 3 == 0:
                    ip = f"2402:800:{uid % 65536:x}:{uid // 65536 + 1:x}::{uid % 251 + 1:x}"
                else:
                    a, b = divmod(uid, 250)
                    ip = f"{20 + a % 80}.{a // 80 % 250 + 1}.{b}.{uid % 250 + 1}"
                device = f"{uid:016x}{1:016x}"
            elif roll < 0.995:  # a phone on a mobile network
                first = rng.choice((27, 113, 171, 116))
                ip = f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                device = f"{uid:016x}{rng.randrange(2, 5):016x}"
            else:  # another enterprise's office and device: the sharing the detectors look for
                other = rng.choice(members)
                a, b = divmod(self.orgs[org_of[other]].id, 250)
                ip = f"{100 + a % 100}.{a // 100 % 250 + 1}.{b}.{10 + other % 200}"
                device = f"{other:016x}{0:016x}"
            # What network_of gives for IPv4, without parsing five million addresses.
            network = network_of(ip) if ":" in ip else ip.rsplit(".", 1)[0] + ".0/24"
            failed = rng.random() < 0.04
            factor = "second_factor" if failed and rng.random() < 0.2 else "password"
            channel = "api" if org.kind == "broker" and rng.random() < 0.5 else "portal"
            if uid not in digests:
                digests[uid] = username_digest(names[uid])
            risky = rng.random() < 0.01
            reasons = (
                '[{"detector": "new_network", "severity": "medium", "score": 30, "message": "", '
                '"params": {}, "flag": null}]'
                if risky
                else "[]"
            )
            yield (
                n + 1,
                uid,
                org.id,
                digests[uid],
                channel,
                "failed" if failed else "succeeded",
                factor,
                ip,
                network,
                AGENTS[(uid + (roll > 0.9)) % len(AGENTS)],
                device,
                at,
                30 if risky else 0,
                reasons,
                at + datetime.timedelta(seconds=2),
            )

    def signins(self) -> int:
        return Table(
            SignInEvent,
            (
                "id",
                "user_id",
                "organization_id",
                "username_digest",
                "channel",
                "outcome",
                "factor",
                "ip",
                "network",
                "user_agent",
                "device_id",
                "occurred_at",
                "risk_score",
                "risk_reasons",
                "evaluated_at",
            ),
        ).copy(self._signin_stream(), rebuild_indexes=True)

    # -- the audit trail --

    def _audit_streams(self) -> Iterator[tuple]:
        """Every event as ``(time, action, actor, organization, target type, target id, data dict or
        canonical text, channel, ip, user agent)``, in time order."""
        setup = sorted(self.setup_events, key=lambda e: e[0])
        self.setup_events = []
        setup_stream = ((*e, "system", "", "") for e in setup)
        signins = (
            (
                at,
                "signin.failed" if outcome == "failed" else "signin.succeeded",
                None if outcome == "failed" else uid,
                org,
                "accounts.signinevent",
                n,
                {"user": str(uid), "device": device, "network": network, "factor": factor},
                channel,
                ip,
                agent,
            )
            for (
                n,
                uid,
                org,
                _digest,
                channel,
                outcome,
                factor,
                ip,
                network,
                agent,
                device,
                at,
                *_rest,
            ) in self._signin_stream()
        )
        signatures = (
            (
                row.at,
                "declaration.rejected" if row.reason else "declaration.signed",
                row.signer,
                row.org.id,
                "signatures.signaturerecord",
                row.n,
                {
                    "number": row.number,
                    "kind": row.kind,
                    "trader": row.org.tax_code,
                    "signer_organization": str(row.signer_org.id),
                    "agent_number": row.agent_number,
                    "certificate": row.fingerprint,
                    "authorization": str(row.mandate) if row.mandate else None,
                    "document_sha256": row.digest,
                    "outcome": "rejected" if row.reason else "accepted",
                    "reason": row.reason,
                },
                row.channel,
                "",
                "ecus-client/6.1 (Windows NT 10.0)" if row.channel == "api" else AGENTS[0],
            )
            for row in self._signature_stream()
        )
        facts = len(setup) + self.sizes.signins + self.sizes.declarations
        filler = max(0, self.sizes.audit_events - facts)
        if self.sizes.audit_events < facts:
            self.out(
                f"  (the trail holds one event per fact: {facts:,} events, more than --audit-events asked)"
            )
        yield from heapq.merge(setup_stream, signins, signatures, self._filler(filler), key=lambda e: e[0])

    def _filler(self, count: int) -> Iterator[tuple]:
        """Everything else the site records: sign-outs, officers' reads, password and contact
        changes, flags, reports; spread evenly over the year."""
        rng = random.Random(self.seed + 8)
        step = self.sizes.days * 86400 / max(count, 1)
        start = self.start.timestamp()
        actions = [a for a, _w in FILLER_ACTIONS]
        weights = [w for _a, w in FILLER_ACTIONS]
        members = [(uid, index) for uid, index, _name in self.users if index >= 0]
        for n in range(count):
            at = datetime.datetime.fromtimestamp(start + (n + rng.random()) * step, datetime.UTC)
            action = rng.choices(actions, weights)[0]
            uid, index = rng.choice(members)
            org = self.orgs[index]
            channel = "portal"
            if action == "officer.viewed" and self.officers:
                actor, data, channel = (
                    rng.choice(self.officers),
                    {"page": "/officers/who-signed/"},
                    "officers",
                )
                target = ("signatures.signaturerecord", "")
            elif action == "flag.raised":
                actor, data, channel = (
                    None,
                    {"kind": "new_network", "severity": "low", "user": str(uid)},
                    "worker",
                )
                target = ("audit.flag", str(n))
            elif action == "user.contact_changed":
                actor, data, target = uid, {"fields": ["phone"]}, ("accounts.user", uid)
            else:
                actor, data, target = uid, {}, ("accounts.user", uid)
            yield (
                at,
                action,
                actor,
                org.id,
                target[0],
                target[1],
                data,
                channel,
                f"203.0.113.{uid % 250 + 1}" if channel != "worker" else "",
                AGENTS[uid % len(AGENTS)],
            )

    def audit_trail(self) -> int:
        rng = random.Random(self.seed + 9)
        sealer = BulkSealer()

        def values():
            for (
                at,
                action,
                actor,
                org,
                target_type,
                target_id,
                data,
                channel,
                ip,
                agent,
            ) in self._audit_streams():
                event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                request_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex if channel != "system" else ""
                data_text = canonical_json(data).decode()
                target_id = str(target_id)
                canonical = canonical_from_text(
                    event_id,
                    format_timestamp(at),
                    action,
                    None if actor is None else str(actor),
                    None if org is None else str(org),
                    target_type,
                    target_id,
                    data_text,
                    channel,
                    ip or None,
                    agent,
                    request_id,
                )
                sealed_at = at + datetime.timedelta(seconds=2)
                position, chain, leaf = sealer.seal(canonical, sealed_at)
                yield (
                    position + 1,
                    event_id,
                    at,
                    action,
                    actor,
                    org,
                    target_type,
                    target_id,
                    data_text,
                    channel,
                    ip,
                    agent,
                    request_id,
                    position,
                    chain,
                    leaf,
                    sealed_at,
                )

        written = Table(
            AuditEvent, ("id", *EVENT_FACT_FIELDS, "position", "chain_hash", "leaf_hash", "sealed_at")
        ).copy(values(), rebuild_indexes=True)
        result = sealer.finish()
        self.out(
            f"    sealed {result.tree_size:,} events: {len(result.checkpoints):,} signed checkpoints, "
            f"{len(sealer.nodes):,} tree nodes"
        )
        return written

    def finish(self) -> str:
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


def _common_name(name: str) -> str:
    """The name cut to the 64 bytes of UTF-8 a certificate's CN may hold (X.520 upper bound)."""
    while len(name.encode()) > 64:
        name = name[:-1]
    return name


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, serial: int, not_before, years: int):
    usage = x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_before + datetime.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
        .sign(signing_key, hashes.SHA256())
    )


def seed_scale(sizes: Sizes, *, out: Callable[[str], None] = print, seed: int = 10) -> dict[str, float]:
    """Empty the benchmark database and fill it at the given sizes; returns seconds per step."""
    return ScaleSeeder(sizes, out=out, seed=seed).run()
