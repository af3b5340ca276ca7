from __future__ import annotations

import datetime

from risk.detectors import dormant_account
from tests.risk.helpers import NOW, event, history, place

DAY = datetime.timedelta(days=1)


def test_a_sign_in_after_long_silence_is_medium(settings):
    settings.RISK_DORMANT_DAYS = 90
    [finding] = dormant_account(
        event(), history(places=(place(ago=120 * DAY),), last_success_at=NOW - 120 * DAY)
    )
    assert (finding.severity, finding.params["days"]) == ("medium", 120)


def test_a_recent_sign_in_is_nothing(settings):
    settings.RISK_DORMANT_DAYS = 90
    assert dormant_account(event(), history(last_success_at=NOW - 89 * DAY)) == []


def test_a_new_accounts_first_sign_in_is_nothing_but_an_old_unused_one_is(settings):
    settings.RISK_DORMANT_DAYS = 90
    assert (
        dormant_account(event(), history(places=(), last_success_at=None, account_created_at=NOW - DAY)) == []
    )
    [finding] = dormant_account(
        event(), history(places=(), last_success_at=None, account_created_at=NOW - 200 * DAY)
    )
    assert finding.params["days"] == 200


def test_failures_and_unknown_accounts_are_nothing(settings):
    old = history(last_success_at=NOW - 400 * DAY)
    assert dormant_account(event(outcome="failed"), old) == []
    assert dormant_account(event(user_id=None), old) == []
