"""The shared cast at work: the fixed cast of tests/conftest.py with bound certificates and an
import mandate from the trader to the broker, ready to sign (the ``world`` fixture)."""

from __future__ import annotations

import base64
import datetime

from django.utils import timezone

from brokers.services.mandates import authorization_accept, authorization_grant
from signatures.services.signing import declaration_sign
from tests.signatures.helpers import bind_certificate, trust
from tests.signatures.pki_factory import openssl_cms_sign

DOCUMENT = "<ToKhai so='{number}'><Loai>import</Loai><TriGia>1250000000</TriGia></ToKhai>"


class World:
    """The cast with their bound certificates and an import mandate from the trader to the broker."""

    def __init__(self, pki, trader, trader_owner, trader_signer, broker, broker_owner, broker_agent, officer):
        trust(pki.intermediate)
        self.pki, self.trader, self.broker, self.officer = pki, trader, broker, officer
        self.trader_owner, self.trader_signer = trader_owner, trader_signer
        self.broker_owner, self.broker_agent = broker_owner, broker_agent
        self.trader_key = pki.signer(tax_code=trader.tax_code, slot=60)
        self.broker_key = pki.signer(tax_code=broker.tax_code, slot=61, key="p256")
        self.trader_certificate = self.bind(trader_owner, self.trader_key, [trader_signer])
        self.broker_certificate = self.bind(broker_owner, self.broker_key, [broker_agent])
        today = timezone.localdate()
        self.mandate = authorization_grant(
            actor=trader_owner, broker=broker, scopes=["import"], representation="direct",
            contract_number="HĐ-01", valid_from=today, valid_until=today + datetime.timedelta(days=90),
        )  # fmt: skip
        authorization_accept(mandate=self.mandate, actor=broker_owner)
        self.counter = 0

    def bind(self, owner, identity, custodians):
        return bind_certificate(owner, identity, custodians)

    def sign(self, actor, identity, *, kind="import", number=None, tamper=False, **cms):
        self.counter += 1
        number = number or f"10{self.counter:010d}"
        document = DOCUMENT.format(number=number).encode()
        signature = openssl_cms_sign(document, identity, **cms)
        # Loaded afresh, as each request loads its user: nothing cached from an earlier step.
        actor = type(actor).objects.get(pk=actor.pk)
        return declaration_sign(
            actor=actor, number=number, kind=kind, trader_tax_code=self.trader.tax_code,
            representation="direct", document=document + (b" " if tamper else b""), signature=signature,
        )  # fmt: skip


def filing_body(world: World, identity, number: str, **changes) -> dict:
    """The JSON an accounting tool posts to file declaration ``number`` in the trader's name."""
    document = DOCUMENT.format(number=number).encode()
    return {
        "number": number, "kind": "import", "trader_tax_code": world.trader.tax_code,
        "representation": "direct",
        "document": base64.b64encode(document).decode(),
        "signature": base64.b64encode(openssl_cms_sign(document, identity)).decode(),
    } | changes  # fmt: skip
