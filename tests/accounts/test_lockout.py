"""django-axes lock-out: by account and address together, with the same page for every account."""

from __future__ import annotations

import re

import pytest

from accounts.models import SignInEvent
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
