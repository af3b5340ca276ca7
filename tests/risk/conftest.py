from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from accounts.models import SignInEvent
from accounts.services.signins import network_of, username_digest

BROKER_DEVICE = "b" * 32
TRADER_DEVICE = "t" * 32


@pytest.fixture(autouse=True)
def _working_hours(request):
    """Monday 10:00 in Hà Nội, so that ``off_hours`` speaks only in the tests about it. Not with a
    real worker: its process keeps the real clock."""
    if request.node.get_closest_marker("real_worker") is not None:
        yield
        return
    with time_machine.travel(datetime.datetime(2026, 11, 30, 3, 0, tzinfo=datetime.UTC), tick=True):
        yield


def record(
    user, *, ago=datetime.timedelta(0), evaluated=True, outcome="succeeded", ip="203.0.113.7", **fields
):
    """A sign-in row as ``signin_record`` would write it, ``ago`` in the past."""
    values = {
        "user": user,
        "organization": user.organization if user else None,
        "username_digest": username_digest(user.username if user else fields.pop("username", "nobody")),
        "channel": "portal",
        "outcome": outcome,
        "ip": ip,
        "network": network_of(ip),
        "user_agent": "Mozilla/5.0 Firefox/140.0",
        "device_id": TRADER_DEVICE,
        "occurred_at": timezone.now() - ago,
        "evaluated_at": timezone.now() if evaluated else None,
    }
    values.update(fields)
    return SignInEvent.objects.create(**values)


@pytest.fixture
def broker_used_device_yesterday(broker_agent):
    return record(broker_agent, ago=datetime.timedelta(days=1), device_id=BROKER_DEVICE, ip="198.51.100.20")


@pytest.fixture
def risky_signin(trader_signer, broker_used_device_yesterday):
    """The trader's signer, known on its own device, now signs in on the broker's device."""
    record(trader_signer, ago=datetime.timedelta(days=3))
    return record(trader_signer, evaluated=False, device_id=BROKER_DEVICE, ip="198.51.100.21")


@pytest.fixture
def signer_certificate(trader, trader_owner, trader_signer):
    """An active certificate of the trader with ``trader_signer`` as its custodian."""
    from signatures.services import binding
    from tests.signatures.helpers import trust
    from tests.signatures.pki_factory import Pki, openssl_dgst_sign

    pki = Pki()
    trust(pki.intermediate)
    holder = pki.signer(tax_code=trader.tax_code, slot=31)
    certificate = binding.certificate_upload(
        actor=trader_owner,
        data=holder.cert_pem,
        signer_name="Nguyễn Thị Lan",
        signer_id_number="001203004567",
    )
    proof = openssl_dgst_sign(certificate.challenge.encode(), holder)
    certificate = binding.certificate_prove(certificate=certificate, proof=proof, actor=trader_owner)
    binding.custodians_set(certificate=certificate, users=[trader_signer], actor=trader_owner)
    return certificate
