"""What one run of the generator knows: the sizes asked, and the rows each step wrote that later
steps refer to."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class Sizes:
    enterprises: int = 100_000
    brokers: int = 2_000
    declarations: int = 1_000_000
    signins: int = 5_000_000
    audit_events: int = 10_000_000
    officers: int = 20
    days: int = 365


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


@dataclass
class Seed:
    """One run: its sizes, random seed and clock, and what the steps wrote so far."""

    sizes: Sizes
    out: Callable[[str], None]
    random_seed: int
    now: datetime.datetime
    timings: dict[str, float] = field(default_factory=dict)
    orgs: list[Org] = field(default_factory=list)
    users: list[tuple[int, int, str]] = field(default_factory=list)  # (id, org index or -1, username)
    officers: list[int] = field(default_factory=list)
    # (time, action, actor, org, target type, id, data): the audit events of the setup steps
    setup_events: list[tuple] = field(default_factory=list)
    issuer_keys: list[tuple] = field(default_factory=list)  # (id, private key, subject, name)
    brokers: list[Org] = field(default_factory=list)
    trader_by_rank: list[int] = field(default_factory=list)  # rank -> index into orgs
    trader_cumulative: list[float] = field(default_factory=list)

    @property
    def start(self) -> datetime.datetime:
        return self.now - datetime.timedelta(days=self.sizes.days)
