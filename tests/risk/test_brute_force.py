from __future__ import annotations

from risk.detectors import brute_force
from tests.risk.helpers import event, history


def test_the_tenth_failed_password_is_medium(settings):
    settings.RISK_BRUTE_FORCE_FAILURES = 10
    [finding] = brute_force(event(outcome="failed"), history(password_failures=9))
    assert (finding.severity, finding.params["count"]) == ("medium", 10)


def test_fewer_failures_are_nothing(settings):
    settings.RISK_BRUTE_FORCE_FAILURES = 10
    assert brute_force(event(outcome="failed"), history(password_failures=8)) == []


def test_a_success_right_after_many_failures_is_high(settings):
    settings.RISK_BRUTE_FORCE_FAILURES = 10
    [finding] = brute_force(event(), history(password_failures=10))
    assert (finding.severity, finding.score) == ("high", 70)
    assert brute_force(event(), history(password_failures=9)) == []


def test_wrong_codes_after_a_right_password_are_high(settings):
    settings.RISK_SECOND_FACTOR_FAILURES = 3
    [finding] = brute_force(
        event(outcome="failed", factor="second_factor"), history(second_factor_failures=2)
    )
    assert (finding.severity, finding.params["count"]) == ("high", 3)
    assert (
        brute_force(event(outcome="failed", factor="second_factor"), history(second_factor_failures=1)) == []
    )


def test_wrong_codes_do_not_count_as_wrong_passwords(settings):
    settings.RISK_BRUTE_FORCE_FAILURES = 3
    assert brute_force(event(outcome="failed", factor="second_factor"), history(password_failures=1)) == []


def test_an_unknown_account_is_left_to_password_spray():
    assert brute_force(event(outcome="failed", user_id=None), history(password_failures=100)) == []


def test_the_evidence_names_no_secret():
    from audit.canonical import validate_data

    [finding] = brute_force(event(outcome="failed"), history(password_failures=50))
    assert set(finding.evidence) == {"failed_attempts", "network"}
    validate_data(finding.evidence, "evidence")  # raises for keys such as "password…"
