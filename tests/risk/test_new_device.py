from __future__ import annotations

from risk.detectors import new_device
from tests.risk.helpers import ELSEWHERE, event, history, place


def test_a_device_never_seen_for_the_account_is_a_low_finding():
    [finding] = new_device(event(device_id="device-new"), history())
    assert (finding.detector, finding.severity, finding.evidence) == (
        "new_device",
        "low",
        {"device": "device-new"},
    )
    assert "Chrome 120 on Windows 10" in finding.sentence_en()


def test_a_device_seen_before_is_nothing():
    assert new_device(event(), history()) == []


def test_the_first_sign_in_ever_is_not_an_alarm():
    assert new_device(event(device_id="device-new"), history(places=(), last_success_at=None)) == []


def test_a_device_the_user_confirmed_is_known_even_if_never_in_the_history_window():
    assert new_device(event(device_id="device-new"), history(known_devices=frozenset({"device-new"}))) == []


def test_a_failed_attempt_from_a_new_device_is_not_this_detector():
    assert new_device(event(device_id="device-new", outcome="failed"), history()) == []


def test_no_device_id_and_no_account_are_nothing():
    assert new_device(event(device_id=""), history()) == []
    assert new_device(event(device_id="device-new", user_id=None), history()) == []


def test_a_missing_or_garbled_user_agent_still_reports_the_device():
    for agent in ("", "\x01\x02 garbage ((( ;;", "x" * 600):
        [finding] = new_device(event(device_id="device-new", user_agent=agent), history())
        assert finding.params["device"] == "unknown device"


def test_only_successful_history_counts_as_seen():
    # Places come from successes only (the selector); a device only ever failed on stays new.
    assert new_device(event(device_id="device-b"), history(places=(place(device="device-a"),))) != []


def test_a_new_device_on_a_network_the_account_has_not_used_either_is_medium():
    """A stolen password tried from the thief's own computer: nothing about the place is familiar."""
    [finding] = new_device(event(device_id="device-new", network=ELSEWHERE), history())
    assert (finding.severity, finding.evidence) == ("medium", {"device": "device-new", "network": ELSEWHERE})
    assert ELSEWHERE in finding.sentence_en() and "Chrome 120 on Windows 10" in finding.sentence_en()


def test_a_network_the_account_confirmed_makes_a_new_device_only_low():
    confirmed = history(known_networks=frozenset({ELSEWHERE}))
    [finding] = new_device(event(device_id="device-new", network=ELSEWHERE), confirmed)
    assert finding.severity == "low"
