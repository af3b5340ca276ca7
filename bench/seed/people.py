"""Organisations (traders and brokers) and their people, officers included."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import Group

from accounts.models import Organization, User
from bench.seed.state import Org, Seed
from bench.seed.tables import Table
from bench.seed.values import (
    FORMS,
    PROVINCE_WEIGHTS,
    PROVINCES,
    STREETS,
    TITLES,
    TRADES,
    WORDS,
    person,
    tax_code_for,
    zipf_cumulative,
)
from officers.services.groups import officer_groups_sync


def organizations(seed: Seed) -> int:
    rng = random.Random(seed.random_seed + 1)
    s = seed.sizes
    count = s.enterprises + s.brokers
    prefixes = rng.choices(range(len(PROVINCES)), PROVINCE_WEIGHTS, k=count)
    sequences = rng.sample(range(100_000, 9_000_000), count)
    used: set[str] = set()
    span = 6 * 365 * 86400
    founded = seed.now - datetime.timedelta(days=6 * 365 + 30)

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
            family, given = person(rng)
            status = rng.choices(("active", "pending_verification", "suspended"), (97, 2, 1))[0]
            level = rng.choices(
                ("prioritised", "high", "moderate", "poor", "non_compliant", "unclassified"),
                (2, 30, 45, 8, 2, 13),
            )[0]
            seed.orgs.append(Org(n + 1, kind, code, name, created))
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
    seed.trader_by_rank = ranks  # rank -> index into seed.orgs
    seed.trader_cumulative = zipf_cumulative(s.enterprises, 0.85)
    for org in seed.orgs:
        seed.setup_events.append(
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


def people(seed: Seed) -> int:
    rng = random.Random(seed.random_seed + 2)
    s = seed.sizes
    rank_of = {index: rank for rank, index in enumerate(seed.trader_by_rank)}
    rows = []
    for index, org in enumerate(seed.orgs):
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
            family, given = person(rng)
            org = seed.orgs[index] if index >= 0 else None
            username = f"{org.tax_code}.{role}{uid}" if org else f"canbo.hq{uid}"
            seed.users.append((uid, index, username))
            if org is not None:
                if role == "owner":
                    org.owner = uid
                if role != "viewer":
                    org.members.append(uid)
                if role == "signer":
                    org.signers.append(uid)
            else:
                seed.officers.append(uid)
            joined = (org.created_at if org else seed.start) + datetime.timedelta(
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
    for uid, index, _username in seed.users:
        if index >= 0:
            org = seed.orgs[index]
            seed.setup_events.append(
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
    officer_groups_sync()
    groups = list(Group.objects.filter(name__in=["officer investigator", "officer administrator"]))
    if groups:
        User.groups.through.objects.bulk_create(
            [
                User.groups.through(user_id=uid, group_id=groups[n % len(groups)].pk)
                for n, uid in enumerate(seed.officers)
            ]
        )
    return written
