from __future__ import annotations

from risk.detectors import password_spray
from tests.risk.helpers import HOME, event, history


def test_many_account_names_failing_from_one_network_is_high(settings):
    settings.RISK_SPRAY_ACCOUNTS = 10
    [finding] = password_spray(event(outcome="failed", user_id=None), history(spray_names=10))
    assert (finding.severity, finding.evidence) == ("high", {"network": HOME, "accounts": 10})


def test_a_few_names_is_nothing(settings):
    settings.RISK_SPRAY_ACCOUNTS = 10
    assert password_spray(event(outcome="failed"), history(spray_names=9)) == []


def test_successes_and_unknown_sources_are_nothing(settings):
    settings.RISK_SPRAY_ACCOUNTS = 2
    assert password_spray(event(), history(spray_names=50)) == []
    assert password_spray(event(outcome="failed", network="", ip=None), history(spray_names=50)) == []
