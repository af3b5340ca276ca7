"""Sign-ins and histories built by hand: the detectors are pure, so their tests need no database."""

from __future__ import annotations

import datetime

from accounts.models import Organization, SignInEvent
from risk.history import History, OtherUse, Place

UTC = datetime.UTC
# Monday 30 November 2026, 10:00 in Hà Nội (UTC+7): inside default working hours.
NOW = datetime.datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
HOME = "203.0.113.0/24"
ELSEWHERE = "198.51.100.0/24"
OWN_TAX_CODE = "0100686209"


def organization(pk: int = 1, kind: str = "trader", tax_code: str = OWN_TAX_CODE, **fields) -> Organization:
    return Organization(pk=pk, kind=kind, tax_code=tax_code, name=f"org {pk}", **fields)


def event(**fields) -> SignInEvent:
    values = {
        "pk": 1000,
        "user_id": 1,
        "organization": organization(),
        "outcome": "succeeded",
        "factor": "password",
        "channel": "portal",
        "device_id": "device-home",
        "network": HOME,
        "ip": "203.0.113.7",
        "user_agent": CHROME,
        "occurred_at": NOW,
        "username_digest": "d" * 64,
    }
    values.update(fields)
    organization_ = values.pop("organization")
    signin = SignInEvent(**values)
    signin.organization = organization_
    if organization_ is None:
        signin.organization_id = None
    return signin


def place(device: str = "device-home", network: str = HOME, ago=datetime.timedelta(days=1), count: int = 3):
    return Place(device_id=device, network=network, last_seen=NOW - ago, count=count)


def other(
    pk: int = 2,
    tax_code: str = "0312345678",
    kind: str = "trader",
    device=False,
    network=False,
    ago=datetime.timedelta(days=1),
    signins: int = 0,
):
    return OtherUse(
        organization_id=pk,
        tax_code=tax_code,
        kind=kind,
        by_device=device,
        by_network=network,
        last_seen=NOW - ago,
        network_signins=signins,
    )


def history(**fields) -> History:
    fields.setdefault("places", (place(),))
    fields.setdefault("last_success_at", NOW - datetime.timedelta(days=1))
    return History(**fields)


def detectors_of(findings) -> list[str]:
    return [finding.detector for finding in findings]
