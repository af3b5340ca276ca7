"""Accounts unused for ACCOUNT_INACTIVITY_DAYS are suspended until their owner reactivates them."""

from __future__ import annotations

import datetime

import pytest

from accounts.models import User
from accounts.services.inactivity import accounts_suspend_inactive
from accounts.services.users import user_reactivate
from audit.models import AuditEvent
from core.errors import ApplicationError
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)


def days_ago(days: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


def test_only_accounts_past_the_limit_are_suspended_once(trader, officer, settings):
    settings.ACCOUNT_INACTIVITY_DAYS = 90
    stale = UserFactory(organization=trader, role="signer", last_login=days_ago(91))
    never = UserFactory(organization=trader, role="viewer", last_login=None, date_joined=days_ago(120))
    recent = UserFactory(organization=trader, role="declarant", last_login=days_ago(89))
    User.objects.filter(pk=officer.pk).update(last_login=days_ago(400))
    assert accounts_suspend_inactive(now=NOW) == 2
    assert accounts_suspend_inactive(now=NOW) == 0
    suspended = set(User.objects.filter(suspended_at__isnull=False).values_list("username", flat=True))
    assert suspended == {stale.username, never.username}
    assert recent.username not in suspended and officer.username not in suspended
    assert AuditEvent.objects.filter(action="user.suspended").count() == 2


def test_a_suspended_account_cannot_sign_in_and_its_session_ends(client, trader_signer):
    client.force_login(trader_signer)
    User.objects.filter(pk=trader_signer.pk).update(suspended_at=NOW, suspension_reason="inactivity")
    assert client.get("/accounts/me/").status_code == 302
    response = client.post("/accounts/login/", {"username": "trader.signer", "password": TEST_PASSWORD})
    assert response.status_code == 200  # the generic "wrong name or password" page


def test_the_owner_reactivates_and_others_cannot(trader_owner, trader_signer, outsider):
    User.objects.filter(pk=trader_signer.pk).update(suspended_at=NOW, suspension_reason="inactivity")
    trader_signer.refresh_from_db()
    for actor in (outsider, trader_signer):
        with pytest.raises(ApplicationError) as refused:
            user_reactivate(user=trader_signer, actor=actor)
        assert refused.value.code == "not_allowed"
    trader_signer.refresh_from_db()
    assert trader_signer.suspended_at is not None
    user_reactivate(user=trader_signer, actor=trader_owner)
    trader_signer.refresh_from_db()
    assert trader_signer.suspended_at is None and trader_signer.last_login is not None
    assert AuditEvent.objects.filter(action="user.reactivated", actor=trader_owner).count() == 1
