"""What the detectors know about a sign-in's past: plain data, loaded by
``risk.selectors.risk_histories_get``, built by hand in tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Place:
    """One device or network, with what this account did there before the event."""

    device_id: str
    network: str
    last_seen: datetime.datetime
    count: int


@dataclass(frozen=True)
class OtherUse:
    """Another enterprise whose people signed in from the event's device or network."""

    organization_id: int
    tax_code: str
    kind: str
    by_device: bool
    by_network: bool
    last_seen: datetime.datetime
    # Its people's sign-ins from the event's network within the look-back window.
    network_signins: int = 0


@dataclass(frozen=True)
class History:
    # Successful sign-ins of this account (before the event, within RISK_DEVICE_MEMORY_DAYS).
    places: tuple[Place, ...] = ()
    last_success_at: datetime.datetime | None = None
    # Devices and networks the user confirmed with "this was me".
    known_devices: frozenset[str] = frozenset()
    known_networks: frozenset[str] = frozenset()
    # Failures on this account within RISK_BRUTE_FORCE_MINUTES, by the proof that failed.
    password_failures: int = 0
    second_factor_failures: int = 0
    # Distinct account names that failed from the event's network within RISK_SPRAY_MINUTES.
    spray_names: int = 0
    others: tuple[OtherUse, ...] = ()
    account_created_at: datetime.datetime | None = None
    extra: dict = field(default_factory=dict)

    @property
    def has_prior_success(self) -> bool:
        return bool(self.places)

    def devices(self) -> set[str]:
        return {p.device_id for p in self.places if p.device_id} | set(self.known_devices)

    def device_uses(self, device_id: str) -> int:
        """How many times this account signed in from the device (within the device memory)."""
        return sum(p.count for p in self.places if device_id and p.device_id == device_id)

    def network_uses(self, network: str) -> int:
        return sum(p.count for p in self.places if network and p.network == network)

    def networks_since(self, since: datetime.datetime) -> set[str]:
        return {p.network for p in self.places if p.network and p.last_seen >= since} | set(
            self.known_networks
        )
