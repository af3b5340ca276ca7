"""The mandate pages: a check of the answers before a mandate is offered, a page saying what will
happen before it is accepted, declined, cancelled or revoked (GET changes nothing, the POST acts),
and a mandate that has not started yet shown as not in force."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brokers.models import Authorization
from brokers.services.mandates import authorization_accept
from tests.brokers.test_mandates import grant, invite
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert sign_in(client, user.username).status_code == 302
    return client


def confirm_url(mandate, action) -> str:
    return f"{reverse('mandate_confirm', args=[mandate.pk])}?action={action}"


def status_of(mandate) -> str:
    return Authorization.objects.get(pk=mandate.pk).status


ANSWERS = {
    "scopes": ["import", "transit"], "representation": "direct", "contract_number": "HĐ-2026/31",
    "valid_from": "01/01/2027", "valid_until": "31/12/2027",
    "grantor_name": "Nguyễn Thị Lan", "grantor_title": "Giám đốc",
}  # fmt: skip


def test_giving_a_mandate_shows_the_answers_and_what_follows_before_anything_is_offered(
    world, trader_owner, broker
):
    owner = client_of(trader_owner)
    Authorization.objects.all().delete()
    answers = ANSWERS | {"broker_tax_code": broker.tax_code}
    check = owner.post(reverse("mandate_grant"), answers)
    html = check.content.decode()
    assert check.status_code == 200
    assert not Authorization.objects.exists()
    assert "Check your answers" in html and "Import, Transit" in html
    assert "01/01/2027 \u2013 31/12/2027" in html and broker.name in html
    assert "may file and sign, with its own certificate" in html
    # Every answer travels in the page, so that it works without JavaScript.
    assert 'type="hidden" name="valid_until" value="31/12/2027"' in html
    assert 'name="confirmed" value="yes"' in html
    changed = owner.post(reverse("mandate_grant"), answers | {"confirmed": "yes", "change": "yes"})
    assert changed.status_code == 200 and not Authorization.objects.exists()
    again = changed.content.decode()
    assert 'value="HĐ-2026/31"' in again and "error-summary" not in again
    done = owner.post(reverse("mandate_grant"), answers | {"confirmed": "yes"})
    assert done.status_code == 302
    mandate = Authorization.objects.get()
    assert mandate.valid_from == datetime.date(2027, 1, 1)
    assert mandate.valid_until == datetime.date(2027, 12, 31)
    assert mandate.scopes == ["import", "transit"]


def test_a_broker_proposal_is_checked_too(world, broker_owner, trader):
    proposer = client_of(broker_owner)
    Authorization.objects.all().delete()
    answers = {k: v for k, v in ANSWERS.items() if not k.startswith("grantor")} | {
        "trader_tax_code": trader.tax_code,
        "trader_registered_on": timezone.localdate(trader.created_at).strftime("%d/%m/%Y"),
    }
    check = proposer.post(reverse("mandate_invite"), answers)
    assert check.status_code == 200 and "Until it accepts, nothing is allowed." in check.content.decode()
    assert not Authorization.objects.exists()
    assert proposer.post(reverse("mandate_invite"), answers | {"confirmed": "yes"}).status_code == 302
    assert Authorization.objects.get().status == "invited"


def test_revoking_says_what_happens_and_changes_nothing_until_posted(world, trader_owner):
    owner = client_of(trader_owner)
    listing = owner.get(reverse("mandate_list")).content.decode()
    assert f'href="{confirm_url(world.mandate, "revoke")}" class="button danger"' in listing.replace(
        "&amp;", "&"
    )
    page = owner.get(confirm_url(world.mandate, "revoke"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Revoke this mandate?" in html and "This is final" in html
    assert "can no longer file or sign declarations" in html
    assert re.search(r'<button type="submit" class="danger">Revoke the mandate</button>', html)
    assert status_of(world.mandate) == "active"
    action = reverse("mandate_action", args=[world.mandate.pk])
    done = owner.post(action, {"action": "revoke", "reason": "ended"})
    assert done.status_code == 302
    mandate = Authorization.objects.get(pk=world.mandate.pk)
    assert (mandate.status, mandate.end_reason) == ("revoked", "ended")


def test_accepting_declining_and_cancelling_each_have_their_page(world, trader_owner, broker_owner, trader):
    Authorization.objects.all().delete()
    proposal = invite(broker_owner, trader)
    owner, proposer = client_of(trader_owner), client_of(broker_owner)
    accept = owner.get(confirm_url(proposal, "accept")).content.decode()
    assert "Accept this mandate?" in accept and 'class="danger"' not in accept
    decline = owner.get(confirm_url(proposal, "decline")).content.decode()
    assert "Decline this mandate?" in decline and '<button type="submit" class="warning">' in decline
    cancel = proposer.get(confirm_url(proposal, "cancel")).content.decode()
    assert "Your proposal is withdrawn" in cancel
    # Only the actions open to that side of that mandate have a page.
    assert owner.get(confirm_url(proposal, "cancel")).status_code == 404
    assert proposer.get(confirm_url(proposal, "accept")).status_code == 404
    assert owner.get(confirm_url(proposal, "revoke")).status_code == 404
    assert owner.get(confirm_url(proposal, "delete")).status_code == 404
    assert status_of(proposal) == "invited"
    owner.post(reverse("mandate_action", args=[proposal.pk]), {"action": "accept"})
    assert status_of(proposal) == "active"


def test_other_enterprises_and_staff_without_the_right_get_no_page(world, outsider, trader_signer):
    for person in (outsider, trader_signer):
        assert client_of(person).get(confirm_url(world.mandate, "revoke")).status_code == 404
    assert client_of(outsider).post(confirm_url(world.mandate, "revoke")).status_code == 405
    assert status_of(world.mandate) == "active"


def test_a_mandate_that_has_not_started_is_shown_as_not_yet_in_force(
    world, trader_owner, broker_owner, broker
):
    Authorization.objects.all().delete()
    start = timezone.localdate() + datetime.timedelta(days=30)
    future = grant(trader_owner, broker, valid_from=start, valid_until=start + datetime.timedelta(days=90))
    authorization_accept(mandate=future, actor=broker_owner)
    current = grant(trader_owner, broker, scopes=("export",))
    authorization_accept(mandate=current, actor=broker_owner)
    for language, words in (("en", "Not yet in force: starts on"), ("vi", "Chưa có hiệu lực: bắt đầu từ")):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        sign_in(client, trader_owner.username)
        html = client.get(reverse("mandate_list")).content.decode()
        assert html.count(words) == 1
        assert f"{words} {start:%d/%m/%Y}" in html
