from __future__ import annotations

from risk.detectors import broker_network
from tests.risk.helpers import event, history, organization, other


def test_a_trader_account_on_a_broker_network_is_medium():
    [finding] = broker_network(
        event(), history(others=(other(kind="broker", tax_code="0300000001", network=True),))
    )
    assert (finding.severity, finding.evidence["broker_tax_codes"]) == ("medium", ["0300000001"])


def test_another_trader_on_the_network_is_not_a_broker():
    assert broker_network(event(), history(others=(other(kind="trader", network=True),))) == []


def test_a_broker_account_on_a_broker_network_is_nothing():
    broker_event = event(organization=organization(kind="broker"))
    assert broker_network(broker_event, history(others=(other(kind="broker", network=True),))) == []


def test_a_broker_device_on_another_network_is_not_this_detector():
    assert broker_network(event(), history(others=(other(kind="broker", device=True),))) == []


def test_no_network_or_a_failure_is_nothing():
    brokers = history(others=(other(kind="broker", network=True),))
    assert broker_network(event(network=""), brokers) == []
    assert broker_network(event(outcome="failed"), brokers) == []
