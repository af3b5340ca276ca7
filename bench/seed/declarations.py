"""Declarations and their signature records: two passes over one deterministic stream of signing
attempts (one ``COPY`` at a time per connection); the audit trail makes a third."""

from __future__ import annotations

import datetime
import hashlib
import random
from collections.abc import Iterator

from bench.seed.state import Seed, SignatureRow
from bench.seed.tables import Table
from bench.seed.values import REFUSALS, pick
from signatures.models import Declaration, SignatureRecord


def signature_stream(seed: Seed) -> Iterator[SignatureRow]:
    rng = random.Random(seed.random_seed + 6)
    count = seed.sizes.declarations
    step = seed.sizes.days * 86400 / max(count, 1)
    start = seed.start.timestamp()
    declaration_id = 0
    for n in range(count):
        at = datetime.datetime.fromtimestamp(start + (n + rng.random()) * step, datetime.UTC)
        org = seed.orgs[seed.trader_by_rank[pick(seed.trader_cumulative, rng)]]
        roll = rng.random()
        kind = "export" if rng.random() < 0.38 else "import"
        if org.mandate and roll < 0.45:
            mandate, broker_index, scope = org.mandate
            broker = seed.brokers[broker_index]
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
        stand_in = b"\x30\x46" + hashlib.sha256(document + b"r").digest() + hashlib.sha256(document).digest()
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


def declarations(seed: Seed) -> int:
    def values():
        for row in signature_stream(seed):
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


def signature_records(seed: Seed) -> int:
    def values():
        for row in signature_stream(seed):
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
