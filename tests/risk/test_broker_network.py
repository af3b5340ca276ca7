from __future__ import annotations

from risk.detectors import broker_network
from tests.risk.helpers import ELSEWHERE, event, history, organization, other


def test_a_trader_account_on_a_broker_network_is_medium():
    office = other(kind="broker", tax_code="0300000001", network=True, signins=30)
    [finding] = broker_network(event(network=ELSEWHERE), history(others=(office,)))
    assert (finding.severity, finding.evidence["broker_tax_codes"]) == ("medium", ["0300000001"])


def test_the_accounts_own_network_shared_with_a_brokers_neighbour_is_not_a_brokers(settings):
    """A home address the account signed in from three times, where a broker's employee lives too."""
    settings.RISK_ESTABLISHED_SIGNINS = 3
    neighbour = other(kind="broker", tax_code="0300000001", network=True, signins=30)
    assert broker_network(event(), history(others=(neighbour,))) == []


def test_a_broker_staff_phone_seen_on_a_carrier_address_does_not_make_it_a_brokers_network(settings):
    settings.RISK_NETWORK_HOLDER_SIGNINS = 5
    settings.RISK_NETWORK_HOLDER_SHARE = 50
    phone = other(kind="broker", tax_code="0300000001", network=True, signins=2)
    assert broker_network(event(network=ELSEWHERE), history(others=(phone,))) == []
    crowd = tuple(other(pk=10 + i, tax_code=f"03{i:08d}", network=True, signins=8) for i in range(6))
    busy_phone = other(kind="broker", tax_code="0300000001", network=True, signins=8)
    assert broker_network(event(network=ELSEWHERE), history(others=(busy_phone, *crowd))) == []


def test_another_trader_on_the_network_is_not_a_broker():
    trader = other(kind="trader", network=True, signins=30)
    assert broker_network(event(network=ELSEWHERE), history(others=(trader,))) == []


def test_a_broker_account_on_a_broker_network_is_nothing():
    broker_event = event(organization=organization(kind="broker"))
    assert broker_network(broker_event, history(others=(other(kind="broker", network=True),))) == []


def test_a_broker_device_on_another_network_is_not_this_detector():
    assert broker_network(event(), history(others=(other(kind="broker", device=True),))) == []


def test_no_network_or_a_failure_is_nothing():
    brokers = history(others=(other(kind="broker", network=True, signins=30),))
    assert broker_network(event(network=""), brokers) == []
    assert broker_network(event(outcome="failed"), brokers) == []
