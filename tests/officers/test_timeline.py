"""A case's page: the timeline of the enterprise concerned (sign-ins, signatures, flags, licence
and certificate events, officers' actions with their reasons and notes), and nobody else's."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from accounts.services.signins import signin_record
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from brokers.services.licences import licence_suspend
from core.context import Channel, RequestContext, bound_context
from officers.services.cases import case_note_add, case_open
from officers.services.decisions import organization_non_cooperation_set
from officers.timeline import case_timeline
from signatures.services.lifecycle import certificate_suspend
from tests.officers.helpers import officer_in

pytestmark = pytest.mark.django_db


def whats(timeline) -> list[str]:
    return [entry.what for entry in timeline]


@pytest.fixture
def trader_case(world, outsider):
    """A case on the trader after a day of ordinary and suspicious work, with noise elsewhere."""
    outsider.first_name, outsider.last_name = "Zed", "Outsider"
    outsider.save(update_fields=["first_name", "last_name"])
    signin_record(user=world.trader_signer, username=world.trader_signer.username, succeeded=True)
    world.sign(world.trader_signer, world.trader_key)
    world.sign(world.broker_agent, world.broker_key)
    world.sign(world.broker_agent, world.trader_key)  # refused and flagged: certificate_foreign_use
    # Another enterprise's life, which must not appear.
    signin_record(user=outsider, username=outsider.username, succeeded=True)
    investigator = officer_in("investigator")
    organization_non_cooperation_set(
        organization=outsider.organization, marked=True, actor=investigator, reason="never answers"
    )
    flag = Flag.objects.get(organization=world.trader, kind="certificate_foreign_use")
    case = case_open(flags=[flag], actor=investigator, title="Lent certificate")
    case_note_add(case=case, text="called the owner: the token was lent", actor=investigator)
    certificate_suspend(certificate=world.trader_certificate, actor=investigator, reason="lent to a broker")
    return case


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_the_timeline_tells_the_enterprises_story_newest_first(trader_case, world, outsider):
    timeline = case_timeline(trader_case)
    what = whats(timeline)
    for expected in (
        "Signed in",
        "Declaration signed",
        "Declaration signature refused",
        "Flag raised",
        "Certificate bound",
        "Certificate suspended",
        "Case opened",
        "Case updated",
    ):
        assert expected in what, (expected, what)
    assert [entry.at for entry in timeline] == sorted((entry.at for entry in timeline), reverse=True)
    details = [detail for entry in timeline for detail in entry.details]
    assert "Reason: lent to a broker" in details
    assert "Note: called the owner: the token was lent" in details
    assert "Certificate used outside its enterprise" in details
    refused = next(entry for entry in timeline if entry.what == "Declaration signature refused")
    assert refused.topic == "Signature"
    assert refused.details == [
        "Declaration 100000000003 (Import)",
        "Refused: a certificate of another enterprise",
    ]
    by_broker = next(entry for entry in timeline if "Declaration 100000000002 (Import)" in entry.details)
    assert by_broker.what == "Declaration signed"
    assert f"agent number {world.broker_agent.agent_profile.agent_number}" in by_broker.details
    assert [entry.this_case for entry in timeline if entry.topic == "Case"] == [True, True]
    investigator = trader_case.opened_by
    opened = next(entry for entry in timeline if entry.what == "Case opened")
    assert opened.who == f"{investigator.last_name} {investigator.first_name}"  # family name first
    raised = next(entry for entry in timeline if entry.what == "Flag raised")
    assert raised.who == "the system"
    # Officers' own reads are not part of the enterprise's story.
    assert str(Action.OFFICER_VIEWED.label) not in what


def test_the_timeline_shows_only_the_enterprise_concerned(trader_case, outsider):
    details = [detail for entry in case_timeline(trader_case) for detail in entry.details]
    assert "Reason: never answers" not in details
    assert "Non-cooperation mark changed" not in whats(case_timeline(trader_case))
    who = {entry.who for entry in case_timeline(trader_case)}
    assert "Outsider Zed" not in who and outsider.username not in who


def test_a_brokers_case_shows_its_licence_events(world):
    investigator = officer_in("investigator")
    licence_suspend(licence=world.broker.licence, actor=investigator, reason="three reports missed")
    flag = Flag.objects.create(
        kind="missed_reports", severity="high", organization=world.broker, explanation="missed",
        first_seen_at=timezone.now(), last_seen_at=timezone.now(),
    )  # fmt: skip
    timeline = case_timeline(case_open(flags=[flag], actor=investigator))
    suspended = next(entry for entry in timeline if entry.what == "Broker licence suspended")
    assert suspended.topic == "Licence"
    assert "Reason: three reports missed" in suspended.details
    assert f"licence {world.broker.licence.number}" in suspended.details


def test_the_case_page_shows_the_timeline(trader_case, console):
    client = console("investigator")
    response = client.get(f"/officers/audit/case/{trader_case.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="timeline"' in page
    assert "called the owner: the token was lent" in page
    assert "Certificate suspended" in page and "never answers" not in page
    # The flag and the refusal by their names, not their codes.
    assert "certificate_foreign_use" not in page and "Certificate used outside its enterprise" in page


def test_a_failed_sign_in_is_not_pinned_on_the_account_it_tried(world):
    with bound_context(RequestContext(channel=Channel.PORTAL, ip="203.0.113.9")):
        signin_record(user=world.trader_signer, username=world.trader_signer.username, succeeded=False)
    flag = Flag.objects.create(
        kind="brute_force", severity="medium", organization=world.trader, explanation="many failures",
        first_seen_at=timezone.now(), last_seen_at=timezone.now(),
    )  # fmt: skip
    timeline = case_timeline(case_open(flags=[flag], actor=officer_in("investigator")))
    failed = next(entry for entry in timeline if entry.what == "Failed sign-in")
    assert (failed.topic, failed.who) == ("Sign-in", "not signed in, Portal")
    assert "network 203.0.113.0/24" in failed.details


def test_reasons_the_system_records_as_codes_read_as_words(world):
    audit_event_record(
        action=Action.USER_SUSPENDED, organization=world.trader, target=world.trader_signer,
        data={"reason": "inactivity", "days": 90},
    )  # fmt: skip
    flag = Flag.objects.create(
        kind="dormant_account", severity="low", organization=world.trader, explanation="long silence",
        first_seen_at=timezone.now(), last_seen_at=timezone.now(),
    )  # fmt: skip
    timeline = case_timeline(case_open(flags=[flag], actor=officer_in("investigator")))
    suspended = next(entry for entry in timeline if entry.what == "Account suspended")
    assert suspended.details == ["Reason: not used for a long time"]
