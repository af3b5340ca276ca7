from __future__ import annotations

import datetime

from accounts.services.signins import network_of
from risk.detectors import new_network
from tests.risk.helpers import ELSEWHERE, event, history, place


def test_a_network_not_used_in_the_window_is_a_low_finding():
    [finding] = new_network(event(network=ELSEWHERE), history())
    assert (finding.severity, finding.evidence) == ("low", {"network": ELSEWHERE})


def test_a_network_used_recently_is_nothing():
    assert new_network(event(), history()) == []


def test_a_network_last_used_before_the_window_is_new_again(settings):
    settings.RISK_LOOKBACK_DAYS = 30
    old = history(places=(place(ago=datetime.timedelta(days=31)),))
    assert [f.detector for f in new_network(event(), old)] == ["new_network"]
    assert new_network(event(), history(places=(place(ago=datetime.timedelta(days=29)),))) == []


def test_ipv6_addresses_in_one_slash_48_are_one_network():
    home = network_of("2001:db8:abcd:1::10")
    assert home == network_of("2001:db8:abcd:ffff::1") == "2001:db8:abcd::/48"
    assert (
        new_network(
            event(network=network_of("2001:db8:abcd:ffff::1")), history(places=(place(network=home),))
        )
        == []
    )
    other = network_of("2001:db8:abce::1")
    assert [
        f.detector for f in new_network(event(network=other), history(places=(place(network=home),)))
    ] == ["new_network"]


def test_first_sign_in_and_confirmed_networks_are_nothing():
    assert new_network(event(network=ELSEWHERE), history(places=())) == []
    assert new_network(event(network=ELSEWHERE), history(known_networks=frozenset({ELSEWHERE}))) == []


def test_no_network_is_nothing():
    assert new_network(event(network="", ip=None), history()) == []
