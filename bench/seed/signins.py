"""A year of sign-ins: at the office, at home, on a phone, and now and then from another
enterprise's office and device (the sharing the detectors look for)."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from accounts.models import SignInEvent
from accounts.services.signins import network_of, username_digest
from bench.seed.state import Seed
from bench.seed.tables import Table
from bench.seed.values import AGENTS, pick


def signin_stream(seed: Seed) -> Iterator[tuple]:
    rng = random.Random(seed.random_seed + 7)
    count = seed.sizes.signins
    step = seed.sizes.days * 86400 / max(count, 1)
    start = seed.start.timestamp()
    members = [uid for uid, index, _name in seed.users if index >= 0]
    names = {uid: name for uid, _index, name in seed.users}
    org_of = {uid: index for uid, index, _name in seed.users}
    digests: dict[int, str] = {}
    for n in range(count):
        at = datetime.datetime.fromtimestamp(start + (n + rng.random()) * step, datetime.UTC)
        if rng.random() < 0.6:
            org = seed.orgs[seed.trader_by_rank[pick(seed.trader_cumulative, rng)]]
            uid = rng.choice(org.members)
        else:
            uid = rng.choice(members)
            org = seed.orgs[org_of[uid]]
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
            a, b = divmod(seed.orgs[org_of[other]].id, 250)
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


def signins(seed: Seed) -> int:
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
    ).copy(signin_stream(seed), rebuild_indexes=True)
