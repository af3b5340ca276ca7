"""Broker licences, their agents, and the mandates traders give brokers."""

from __future__ import annotations

import datetime
import random

from bench.seed.state import Seed
from bench.seed.tables import Table
from bench.seed.values import pick, zipf_cumulative
from brokers.models import AgentStaff, Authorization, BrokerLicence


def licences(seed: Seed) -> int:
    rng = random.Random(seed.random_seed + 3)
    brokers = [org for org in seed.orgs if org.kind == "broker"]
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
        seed.setup_events.append(
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
            seed.setup_events.append(
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
    seed.brokers = brokers
    written = Table(
        BrokerLicence,
        ("id", "organization_id", "number", "issued_by", "issued_on", "status", "status_reason"),
    ).copy(licence_rows)
    written += Table(AgentStaff, ("id", "user_id", "licence_id", "agent_number", "joined_on")).copy(
        agent_rows
    )
    return written


def mandates(seed: Seed) -> int:
    rng = random.Random(seed.random_seed + 5)
    # Traders mandate brokers whose licence is active; popular brokers serve many traders.
    active_brokers = [i for i, org in enumerate(seed.brokers) if org.licence_status == "active"]
    broker_cumulative = zipf_cumulative(len(active_brokers), 0.9)
    today = seed.now.date()

    def values():
        number = 0
        for org in seed.orgs:
            if org.kind != "trader" or rng.random() > 0.6:
                continue
            for ended in (True, False) if rng.random() < 0.15 else (False,):
                number += 1
                broker_index = active_brokers[pick(broker_cumulative, rng)]
                broker = seed.brokers[broker_index]
                scope = rng.choices(("import", "export", "both"), (45, 25, 30))[0]
                invited = max(org.created_at, seed.start - datetime.timedelta(days=rng.randrange(0, 400)))
                if ended:
                    invited -= datetime.timedelta(days=400)
                valid_from = (invited + datetime.timedelta(days=3)).date()
                valid_until = today + datetime.timedelta(days=rng.randrange(30, 700))
                status = "active"
                ended_at = None
                if ended:
                    valid_until = valid_from + datetime.timedelta(days=rng.randrange(60, 360))
                    status = rng.choice(("revoked", "expired"))
                    ended_at = datetime.datetime.combine(valid_until, datetime.time(17), tzinfo=datetime.UTC)
                else:
                    org.mandate = (number, broker_index, scope)
                accepted = invited + datetime.timedelta(hours=rng.randrange(1, 72))
                seed.setup_events.append(
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
                seed.setup_events.append(
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
