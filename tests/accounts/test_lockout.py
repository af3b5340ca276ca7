"""django-axes lock-out: by account and address together, by address alone at a higher threshold,
progressively longer, with the same page for every account."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.lockout import cool_off
from accounts.models import Lockout, Notification, SignInEvent
from accounts.services.signins import username_digest
from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(client, username, password="not the password", ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_account_from_that_address(client, trader_signer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "trader.signer").status_code == 200
    locked = attempt(client, "trader.signer")
    assert locked.status_code == 429
    # Even the right password is refused while locked, with the same page.
    assert attempt(client, "trader.signer", TEST_PASSWORD).status_code == 429
    # The same account from another address, and another account from this one, still work.
    assert attempt(client, "trader.signer", TEST_PASSWORD, ip="198.51.100.20").status_code == 302
    assert (
        SignInEvent.objects.filter(user=trader_signer, outcome="failed").count()
        >= settings.AXES_FAILURE_LIMIT
    )


def test_an_unknown_account_locks_the_same_way_and_reads_the_same(client, trader_signer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "nobody.here")
        attempt(client, "trader.signer")
    unknown = attempt(client, "nobody.here")
    known = attempt(client, "trader.signer")
    assert unknown.status_code == known.status_code == 429

    def visible(response):  # the page without its per-response CSRF token
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())

    assert visible(unknown) == visible(known)


def test_a_successful_sign_in_resets_the_count(client, trader_signer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "trader.signer")
    assert attempt(client, "trader.signer", TEST_PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "trader.signer").status_code == 200


def test_one_address_trying_many_accounts_is_locked_at_the_address_threshold(client, trader_signer, settings):
    settings.LOCKOUT_IP_FAILURES = 12
    # Four accounts, three failures each: no account reaches its own limit of five.
    for index in range(settings.LOCKOUT_IP_FAILURES - 1):
        assert attempt(client, f"guess{index % 4}").status_code == 200
    assert attempt(client, "guess0").status_code == 429
    # Now every account is refused from that address, even with the right password...
    assert attempt(client, "trader.signer", TEST_PASSWORD).status_code == 429
    # ...and the same account elsewhere is untouched.
    assert attempt(client, "trader.signer", TEST_PASSWORD, ip="198.51.100.20").status_code == 302


def test_below_both_thresholds_nothing_is_locked(client, trader_signer, settings):
    settings.LOCKOUT_IP_FAILURES = 12
    for index in range(settings.LOCKOUT_IP_FAILURES - 2):
        attempt(client, f"guess{index % 5}")
    assert attempt(client, "trader.signer", TEST_PASSWORD).status_code == 302


def lock(client, username="trader.signer", ip="203.0.113.7"):
    for _ in range(5):
        attempt(client, username, ip=ip)
    assert attempt(client, username, ip=ip).status_code == 429


def test_each_recent_lockout_doubles_the_next_cool_off(client, trader_signer, settings):
    settings.LOCKOUT_MINUTES = 10
    start = datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        lock(client)
        assert Lockout.objects.count() == 1
        clock.shift(datetime.timedelta(minutes=11))  # first cool-off (10 min) is over
        assert attempt(client, "trader.signer", TEST_PASSWORD).status_code == 302
        client.logout()
        lock(client)
        assert Lockout.objects.count() == 2
        clock.shift(datetime.timedelta(minutes=11))  # the second lasts 20 minutes
        assert attempt(client, "trader.signer", TEST_PASSWORD).status_code == 429
        assert Lockout.objects.count() == 2  # trying while locked is not a new lock-out


def test_the_cool_off_is_capped_and_forgets_old_lockouts(settings, rf, db):
    settings.LOCKOUT_MINUTES, settings.LOCKOUT_MAX_MINUTES, settings.LOCKOUT_PROGRESSIVE_HOURS = 15, 60, 24
    request = rf.post("/accounts/login/", {"username": "someone"})
    request.axes_ip_address = "203.0.113.7"
    assert cool_off(request) == datetime.timedelta(minutes=15)
    for _ in range(6):
        Lockout.objects.create(ip="203.0.113.7", username_digest=username_digest("someone"))
    assert cool_off(request) == datetime.timedelta(minutes=60)
    Lockout.objects.update(locked_at=timezone.now() - datetime.timedelta(hours=25))
    assert cool_off(request) == datetime.timedelta(minutes=15)


def test_attempts_while_locked_do_not_make_more_lockouts(client, trader_signer):
    lock(client)
    for _ in range(5):
        assert attempt(client, "trader.signer").status_code == 429
    assert Lockout.objects.count() == 1


def test_a_lockout_is_audited_and_told_to_the_account_without_naming_strangers(
    client, trader_signer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lock(client)
        lock(client, username="nobody.here", ip="198.51.100.9")
    mine = Notification.objects.get(user=trader_signer)
    assert mine.kind == "locked_out"
    assert [message.to for message in mail.outbox] == [[trader_signer.email]]
    events = AuditEvent.objects.filter(action="signin.locked_out")
    assert events.count() == 2
    # The stranger's typed name is kept only as a digest (people type passwords there).
    assert "nobody.here" not in str(list(events.values_list("data", flat=True)))
    assert not Lockout.objects.filter(username_digest="nobody.here").exists()


def test_the_officer_console_shares_the_portal_lockout_page(client, officer):
    for _ in range(5):
        attempt(client, "officer")
    response = attempt(client, "officer", TEST_PASSWORD)
    assert response.status_code == 429
