from __future__ import annotations

import datetime

from accounts.services.signins import network_of
from risk.detectors import concurrent_networks
from tests.risk.helpers import ELSEWHERE, HOME, event, history, place

MIN = datetime.timedelta(minutes=1)


def test_another_network_minutes_ago_from_an_unfamiliar_device_is_medium(settings):
    settings.RISK_CONCURRENT_MINUTES = 10
    recent = history(places=(place(network=ELSEWHERE, ago=3 * MIN),))
    [finding] = concurrent_networks(event(device_id="device-new"), recent)
    assert (finding.severity, finding.evidence["other_networks"]) == ("medium", [ELSEWHERE])


def test_another_network_minutes_ago_from_the_accounts_own_phone_is_low(settings):
    """A person at the office computer who also signs in on their phone."""
    settings.RISK_CONCURRENT_MINUTES = 10
    settings.RISK_ESTABLISHED_SIGNINS = 3
    phone = place(device="phone", network="113.160.5.0/24", ago=datetime.timedelta(days=2), count=5)
    recent = history(places=(phone, place(network=ELSEWHERE, ago=3 * MIN)))
    [finding] = concurrent_networks(event(device_id="phone", network="113.160.9.0/24"), recent)
    assert (finding.severity, finding.score) == ("low", 15)


def test_the_same_network_or_an_old_sign_in_is_nothing(settings):
    settings.RISK_CONCURRENT_MINUTES = 10
    assert concurrent_networks(event(), history(places=(place(network=HOME, ago=MIN),))) == []
    assert concurrent_networks(event(), history(places=(place(network=ELSEWHERE, ago=11 * MIN),))) == []


def test_a_sign_in_recorded_earlier_but_stamped_later_by_a_skewed_clock_counts(settings):
    settings.RISK_CONCURRENT_MINUTES = 10
    settings.RISK_CLOCK_SKEW_SECONDS = 120
    ahead = place(network=ELSEWHERE, ago=-MIN)  # stamped one minute after this event
    assert len(concurrent_networks(event(), history(places=(ahead,)))) == 1
    far_ahead = place(network=ELSEWHERE, ago=-5 * MIN)
    assert concurrent_networks(event(), history(places=(far_ahead,))) == []


def test_a_phone_moving_inside_its_ipv6_slash_48_is_one_network(settings):
    before = place(network=network_of("2001:db8:1:2::5"), ago=MIN)
    assert concurrent_networks(event(network=network_of("2001:db8:1:99::7")), history(places=(before,))) == []


def test_sign_ins_without_a_network_are_ignored():
    assert concurrent_networks(event(), history(places=(place(network="", ago=MIN),))) == []
    assert concurrent_networks(event(network=""), history(places=(place(network=ELSEWHERE, ago=MIN),))) == []
