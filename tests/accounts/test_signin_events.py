"""Every sign-in attempt is recorded faithfully, and each person sees only what is theirs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.middleware import DEVICE_COOKIE
from accounts.models import SignInEvent
from accounts.services.signins import network_of, username_digest
from audit.models import AuditEvent
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def test_a_successful_sign_in_is_recorded_with_where_it_came_from(client, trader_signer):
    client.get(LOGIN)  # the device cookie is set on the first visit
    device = client.cookies[DEVICE_COOKIE].value
    response = sign_in(client, "trader.signer", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140")
    assert response.status_code == 302
    event = SignInEvent.objects.get()
    assert (event.user, event.organization, event.outcome, event.channel) == (
        trader_signer,
        trader_signer.organization,
        "succeeded",
        "portal",
    )
    assert (event.ip, event.network, event.user_agent) == ("203.0.113.7", "203.0.113.0/24", "Firefox/140")
    assert len(event.device_id) == 32 and event.device_id in device
    audit = AuditEvent.objects.get(action="signin.succeeded")
    assert (audit.actor, audit.target_id) == (trader_signer, str(event.pk))


def test_a_failed_sign_in_on_an_existing_account_names_the_account(client, trader_signer):
    response = sign_in(client, "trader.signer", "wrong password entirely")
    assert response.status_code == 200
    event = SignInEvent.objects.get()
    assert (event.user, event.outcome) == (trader_signer, "failed")
    assert AuditEvent.objects.filter(action="signin.failed", actor=None).count() == 1


def test_an_unknown_name_keeps_only_a_digest_and_the_same_message(client, trader_signer):
    unknown = sign_in(client, "my secret passphrase typed here", "x").content.decode()
    wrong = sign_in(client, "trader.signer", "x").content.decode()
    unknown_event = SignInEvent.objects.order_by("id").first()
    assert unknown_event.user is None
    assert unknown_event.username_digest == username_digest("my secret passphrase typed here")
    stored = repr(list(SignInEvent.objects.values_list())) + repr(list(AuditEvent.objects.values_list()))
    assert "my secret passphrase" not in stored
    # The page does not tell an unknown account from a wrong password.
    errors = [page.split('class="error-summary"')[1].split("</div>")[0] for page in (unknown, wrong)]
    assert errors[0] == errors[1]


def test_a_tampered_device_cookie_is_replaced(client):
    client.cookies[DEVICE_COOKIE] = "forged-value"
    client.get(LOGIN)
    assert client.cookies[DEVICE_COOKIE].value != "forged-value"
    assert client.cookies[DEVICE_COOKIE]["httponly"]


@pytest.mark.parametrize(
    ("ip", "network"),
    [("203.0.113.7", "203.0.113.0/24"), ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"), (None, "")],
)
def test_networks_are_slash_24_and_slash_48(ip, network):
    assert network_of(ip) == network


def test_each_person_sees_their_own_history_and_the_owner_sees_the_enterprises(
    client, trader_owner, trader_signer, outsider
):
    for user in (trader_owner, trader_signer, outsider):
        sign_in(client, user.username)
        client.logout()
    sign_in(client, "trader.signer")
    mine = client.get(reverse("signin_history"))
    assert [event.user.username for event in mine.context["page"]] == ["trader.signer", "trader.signer"]
    refused = client.get(reverse("signin_history") + "?scope=organization")
    assert list(refused.context["page"].object_list) == []  # a signer does not manage the enterprise
    client.logout()
    sign_in(client, "trader.owner")
    whole = client.get(reverse("signin_history") + "?scope=organization")
    usernames = {event.user.username for event in whole.context["page"]}
    assert usernames == {"trader.owner", "trader.signer"}
    assert "outsider" not in whole.content.decode()


def test_the_history_needs_a_sign_in(client):
    assert client.get(reverse("signin_history")).status_code == 302
