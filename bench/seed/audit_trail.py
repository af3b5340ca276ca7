"""The audit trail: an event for every fact the other steps wrote, and filler for everything else
the site records, loaded in time order and sealed by the one sealer."""

from __future__ import annotations

import datetime
import heapq
import random
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.db import connection

from audit.canonical import SALT_SIZE
from audit.models import EVENT_FACT_FIELDS, AuditEvent, AuditTreeNode
from audit.services.sealing import audit_seal
from audit.verify_receipt import canonical_json
from bench.seed.declarations import signature_stream
from bench.seed.signins import signin_stream
from bench.seed.state import Seed
from bench.seed.tables import Table, secondary_indexes_dropped
from bench.seed.values import AGENTS, FILLER_ACTIONS

# The unsealed events' queue (AuditEvent.Meta.indexes) and the positions' unique constraint.
SEALER_INDEXES = ("audit_event_unsealed", "audit_auditevent_position_key")


def audit_streams(seed: Seed) -> Iterator[tuple]:
    """Every event as ``(time, action, actor, organization, target type, target id, data dict or
    canonical text, channel, ip, user agent)``, in time order."""
    setup = sorted(seed.setup_events, key=lambda e: e[0])
    seed.setup_events = []
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
        ) in signin_stream(seed)
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
        for row in signature_stream(seed)
    )
    facts = len(setup) + seed.sizes.signins + seed.sizes.declarations
    filler = max(0, seed.sizes.audit_events - facts)
    if seed.sizes.audit_events < facts:
        seed.out(f"  (the trail holds one event per fact: {facts:,} events, more than --audit-events asked)")
    yield from heapq.merge(setup_stream, signins, signatures, filler_events(seed, filler), key=lambda e: e[0])


def filler_events(seed: Seed, count: int) -> Iterator[tuple]:
    """Everything else the site records: sign-outs, officers' reads, password and contact
    changes, flags, reports; spread evenly over the year."""
    rng = random.Random(seed.random_seed + 8)
    step = seed.sizes.days * 86400 / max(count, 1)
    start = seed.start.timestamp()
    actions = [a for a, _w in FILLER_ACTIONS]
    weights = [w for _a, w in FILLER_ACTIONS]
    members = [(uid, index) for uid, index, _name in seed.users if index >= 0]
    for n in range(count):
        at = datetime.datetime.fromtimestamp(start + (n + rng.random()) * step, datetime.UTC)
        action = rng.choices(actions, weights)[0]
        uid, index = rng.choice(members)
        org = seed.orgs[index]
        channel = "portal"
        if action == "officer.viewed" and seed.officers:
            actor, data, channel = (
                rng.choice(seed.officers),
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


def audit_trail(seed: Seed) -> int:
    """Load the events unsealed, ids in time order, then seal them as the site seals its own."""
    rng = random.Random(seed.random_seed + 9)

    def values():
        for n, (at, action, actor, org, target_type, target_id, data, channel, ip, agent) in enumerate(
            audit_streams(seed), start=1
        ):
            yield (
                n,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                at,
                action,
                actor,
                org,
                target_type,
                str(target_id),
                canonical_json(data).decode(),
                channel,
                ip,
                agent,
                uuid.UUID(int=rng.getrandbits(128), version=4).hex if channel != "system" else "",
                rng.randbytes(SALT_SIZE),
            )

    # Until the trail is sealed, only the two indexes the sealer reads by are kept: sealing rewrites
    # every row, so each other index would take two entries per event, most at random places.
    with secondary_indexes_dropped(AuditEvent._meta.db_table, keep=SEALER_INDEXES):
        written = Table(AuditEvent, ("id", *EVENT_FACT_FIELDS)).copy(values())
        with connection.cursor() as cursor:
            # Statistics of the loaded table, so the sealer's queries take the unsealed-events index.
            cursor.execute(f"ANALYZE {AuditEvent._meta.db_table}")
        # The sealer seals in id order, so positions follow time. It closes a checkpoint every
        # AUDIT_CHECKPOINT_EVENTS events; the last, shorter one once its oldest event has waited
        # AUDIT_CHECKPOINT_SECONDS, which the second call (the sweep, that much later) finds.
        sealed = audit_seal(now=seed.now)
        closed = audit_seal(now=seed.now + datetime.timedelta(seconds=settings.AUDIT_CHECKPOINT_SECONDS))
    seed.out(
        f"    sealed {sealed.tree_size:,} events: {len(sealed.checkpoints) + len(closed.checkpoints):,} "
        f"signed checkpoints, {AuditTreeNode.objects.count():,} tree nodes"
    )
    return written
