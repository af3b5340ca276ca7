"""Becoming a customs broker (Circular 12/2015, 22/2019): agents proposed, an application, the
officer's grant or rejection, agents confirmed, added and removed, licences expiring and renewed."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, Organization, User
from audit.models import AuditEvent
from brokers.models import AgentProposal, AgentStaff, Authorization, BrokerLicence, LicenceApplication
from brokers.selectors import broker_directory
from brokers.services.licences import broker_licence_grant, licence_renew, licences_expire
from brokers.services.licensing import (
    agent_proposal_confirm,
    agent_proposal_reject,
    agent_propose,
    licence_application_grant,
    licence_application_reject,
    licence_application_submit,
)
from brokers.tasks import licences_expire_task
from core.errors import ApplicationError
from tests.factories import (
    AgentProposalFactory,
    LicenceApplicationFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 1)


@pytest.fixture
def applicant() -> Organization:
    return OrganizationFactory(kind=Organization.Kind.BROKER, name="Công ty Đại lý Bình Minh")


@pytest.fixture
def applicant_owner(applicant) -> User:
    return UserFactory(organization=applicant, role=User.Role.OWNER, username="applicant.owner")


@pytest.fixture
def applicant_signer(applicant) -> User:
    return UserFactory(organization=applicant, role=User.Role.SIGNER, username="applicant.signer")


def apply(owner, **changes) -> LicenceApplication:
    contact = {"contact_name": "Trần Thị Mai", "contact_phone": "+84912345678", "contact_email": "m@bm.vn"}
    return licence_application_submit(actor=owner, **(contact | changes))


def codes(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


# --- the service: proposing agents and applying -------------------------------------------------


def test_an_owner_proposes_a_signer_as_agent_and_it_is_audited(applicant_owner, applicant_signer):
    proposal = agent_propose(actor=applicant_owner, user=applicant_signer, agent_number=" CC-7 ")
    assert proposal.status == "proposed" and proposal.agent_number == "CC-7"
    [event] = codes("agent.proposed")
    assert event.actor == applicant_owner and event.data == {
        "agent_number": "CC-7",
        "user": str(applicant_signer.pk),
    }


@pytest.mark.parametrize(
    "who, code",
    [("another_enterprise", "not_allowed"), ("a_signer", "not_allowed")],
)
def test_only_the_enterprises_managers_propose_its_agents(who, code, applicant_signer, outsider, applicant):
    actor = outsider if who == "another_enterprise" else UserFactory(organization=applicant, role="signer")
    with pytest.raises(ApplicationError) as refused:
        agent_propose(actor=actor, user=applicant_signer, agent_number="CC-8")
    assert refused.value.code == code
    assert not AgentProposal.objects.exists()


def test_a_manager_a_proposed_person_or_a_taken_number_is_refused(
    applicant_owner, applicant_signer, broker_agent
):
    with pytest.raises(ApplicationError) as manager:
        agent_propose(actor=applicant_owner, user=applicant_owner, agent_number="CC-1")
    assert manager.value.code == "agent_not_eligible"
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-1")
    with pytest.raises(ApplicationError) as again:
        agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-2")
    assert again.value.code == "agent_not_eligible"
    other = UserFactory(organization=applicant_owner.organization, role="declarant")
    for taken in ("CC-1", broker_agent.agent_profile.agent_number):
        with pytest.raises(ApplicationError) as duplicate:
            agent_propose(actor=applicant_owner, user=other, agent_number=taken)
        assert duplicate.value.code == "duplicate_agent_number"
    with pytest.raises(ApplicationError) as blank:
        agent_propose(actor=applicant_owner, user=other, agent_number="  ")
    assert blank.value.code == "invalid_input"
    assert AgentProposal.objects.count() == 1


def test_an_application_needs_a_proposed_agent_and_only_one_waits_at_a_time(
    applicant_owner, applicant_signer
):
    with pytest.raises(ApplicationError) as no_agent:
        apply(applicant_owner)
    assert no_agent.value.code == "agents_required"
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-1")
    application = apply(applicant_owner, licence_number="DLHQ-77/2025")
    assert application.status == "submitted" and application.licence_number == "DLHQ-77/2025"
    [event] = codes("licence.applied")
    assert event.actor == applicant_owner and event.data == {"licence_number": "DLHQ-77/2025", "agents": 1}
    with pytest.raises(ApplicationError) as twice:
        apply(applicant_owner)
    assert twice.value.code == "application_pending"


def test_a_bad_contact_email_is_refused_and_nothing_is_saved(applicant_owner, applicant_signer):
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-1")
    with pytest.raises(ValidationError) as refused:
        apply(applicant_owner, contact_email="not-an-address")
    assert "contact_email" in refused.value.message_dict
    assert not LicenceApplication.objects.exists() and not codes("licence.applied")


def test_a_licensed_broker_or_a_staff_member_cannot_apply(broker_owner, applicant_signer):
    with pytest.raises(ApplicationError) as licensed:
        apply(broker_owner)
    assert licensed.value.code == "already_licensed"
    with pytest.raises(ApplicationError) as staff:
        apply(applicant_signer)
    assert staff.value.code == "not_allowed"


# --- the service: the officer's decision --------------------------------------------------------


@pytest.fixture
def application(applicant_owner, applicant_signer) -> LicenceApplication:
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-100")
    return apply(applicant_owner)


def test_a_grant_licenses_the_broker_confirms_the_chosen_agents_and_lists_it_at_once(
    application, officer, applicant, applicant_signer, applicant_owner
):
    assert not broker_directory(query="Bình Minh").exists()
    proposal = AgentProposal.objects.get()
    licence = licence_application_grant(
        application=application,
        actor=officer,
        number="DLHQ-0500/2026",
        issued_on=timezone.localdate(),
        issued_by="Cục Hải quan TP. Hồ Chí Minh",
        expires_on=timezone.localdate() + datetime.timedelta(days=365),
        agents=[proposal],
    )
    assert list(broker_directory(query="Bình Minh")) == [licence]
    application.refresh_from_db()
    proposal.refresh_from_db()
    assert (
        application.status == "granted"
        and application.licence == licence
        and application.decided_by == officer
    )
    agent = AgentStaff.objects.get(user=applicant_signer)
    assert proposal.status == "confirmed" and proposal.agent == agent and agent.agent_number == "CC-100"
    [granted] = codes("licence.granted")
    assert granted.actor == officer and granted.data["number"] == "DLHQ-0500/2026"
    assert [e.actor for e in codes("agent.registered")] == [officer]
    assert Notification.objects.filter(user=applicant_owner, kind="licence_granted").exists()


def test_a_trader_granted_a_licence_becomes_a_broker(officer):
    trader = OrganizationFactory(kind=Organization.Kind.TRADER)
    broker_licence_grant(
        organization=trader, number="DLHQ-9/2026", issued_by="", issued_on=timezone.localdate(), actor=officer
    )
    trader.refresh_from_db()
    assert trader.kind == "broker"
    assert codes("licence.granted")[0].data["became_broker"] is True


@pytest.mark.parametrize(
    "terms, code",
    [
        ({"issued_on": datetime.date(2999, 1, 1)}, "invalid_date"),
        ({"expires_on": datetime.date(2000, 1, 1)}, "invalid_date"),
    ],
)
def test_a_grant_with_impossible_dates_changes_nothing(application, officer, terms, code):
    with pytest.raises(ApplicationError) as refused:
        licence_application_grant(
            application=application,
            actor=officer,
            number="DLHQ-1",
            **({"issued_on": timezone.localdate()} | terms),
        )
    assert refused.value.code == code
    application.refresh_from_db()
    assert application.status == "submitted" and not BrokerLicence.objects.exists()


def test_a_licence_number_in_use_is_refused(application, officer, broker_licence):
    with pytest.raises(ValidationError) as refused:
        licence_application_grant(
            application=application,
            actor=officer,
            number=broker_licence.number,
            issued_on=timezone.localdate(),
        )
    assert "number" in refused.value.message_dict
    application.refresh_from_db()
    assert application.status == "submitted"


def test_a_grant_cannot_confirm_another_enterprises_agent(application, officer, broker):
    foreign = AgentProposalFactory(organization=broker)
    with pytest.raises(ApplicationError) as refused:
        licence_application_grant(
            application=application,
            actor=officer,
            number="DLHQ-2",
            issued_on=timezone.localdate(),
            agents=[foreign],
        )
    assert refused.value.code == "invalid_input"
    assert not BrokerLicence.objects.filter(number="DLHQ-2").exists()


def test_only_an_officer_decides_an_application(application, applicant_owner, broker_owner):
    for actor in (applicant_owner, broker_owner):
        with pytest.raises(ApplicationError) as refused:
            licence_application_grant(
                application=application, actor=actor, number="DLHQ-3", issued_on=timezone.localdate()
            )
        assert refused.value.code == "not_allowed"
        with pytest.raises(ApplicationError):
            licence_application_reject(application=application, actor=actor, reason="no")
    application.refresh_from_db()
    assert application.status == "submitted"


def test_a_rejection_needs_a_reason_tells_the_owner_and_allows_a_new_application(
    application, officer, applicant_owner
):
    with pytest.raises(ApplicationError) as no_reason:
        licence_application_reject(application=application, actor=officer, reason=" ")
    assert no_reason.value.code == "reason_required"
    licence_application_reject(application=application, actor=officer, reason="Chứng chỉ không khớp")
    application.refresh_from_db()
    assert application.status == "rejected" and application.decision_reason == "Chứng chỉ không khớp"
    [event] = codes("licence.application_rejected")
    assert event.actor == officer and event.data == {"reason": "Chứng chỉ không khớp"}
    notice = Notification.objects.get(user=applicant_owner, kind="licence_rejected")
    assert notice.params["reason"] == "Chứng chỉ không khớp"
    with pytest.raises(ApplicationError) as decided:
        licence_application_grant(
            application=application, actor=officer, number="DLHQ-4", issued_on=timezone.localdate()
        )
    assert decided.value.code == "invalid_transition"
    assert apply(applicant_owner).status == "submitted"


def test_a_proposal_is_confirmed_only_under_a_licence_and_rejected_with_a_reason(
    application, officer, broker
):
    proposal = AgentProposal.objects.get()
    with pytest.raises(ApplicationError) as unlicensed:
        agent_proposal_confirm(proposal=proposal, actor=officer)
    assert unlicensed.value.code == "no_licence"
    agent_proposal_reject(proposal=proposal, actor=officer, reason="Số chứng chỉ sai")
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and proposal.decision_reason == "Số chứng chỉ sai"
    assert codes("agent.proposal_rejected")[0].actor == officer
    later = AgentProposalFactory(organization=broker)
    with pytest.raises(ApplicationError) as not_officer:
        agent_proposal_confirm(proposal=later, actor=UserFactory(organization=broker, role="owner"))
    assert not_officer.value.code == "not_allowed"
    agent = agent_proposal_confirm(proposal=later, actor=officer)
    assert agent.licence == broker.licence and agent.joined_on == timezone.localdate()
    with pytest.raises(ApplicationError) as twice:
        agent_proposal_confirm(proposal=later, actor=officer)
    assert twice.value.code == "invalid_transition"


# --- expiry and renewal -------------------------------------------------------------------------


@pytest.fixture
def term_licence(broker_licence):
    broker_licence.expires_on = TODAY
    broker_licence.save(update_fields=["expires_on"])
    return broker_licence


def test_the_sweep_expires_a_licence_after_its_last_day_and_tells_the_broker_and_its_traders(
    world, term_licence, outsider
):
    with time_machine.travel(datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC), tick=False):
        assert licences_expire() == 0
    with time_machine.travel(datetime.datetime(2026, 12, 2, 12, tzinfo=datetime.UTC), tick=False):
        assert licences_expire_task.delay().get(timeout=5) == 1
        assert licences_expire() == 0  # idempotent
    term_licence.refresh_from_db()
    assert term_licence.status == "expired"
    [event] = codes("licence.expired")
    assert event.actor is None and event.data["expires_on"] == "2026-12-01"
    told = set(Notification.objects.filter(kind="licence_expired").values_list("user__username", flat=True))
    assert told == {"broker.owner", "trader.owner"}
    assert Authorization.objects.filter(broker=world.broker, status="active").exists()


def test_an_expired_licence_is_renewed_by_an_officer_with_a_reason(world, term_licence, officer):
    with time_machine.travel(datetime.datetime(2026, 12, 2, 12, tzinfo=datetime.UTC), tick=False):
        licences_expire()
        with pytest.raises(ApplicationError) as past:
            licence_renew(licence=term_licence, actor=officer, expires_on=TODAY, reason="renewed")
        assert past.value.code == "invalid_date"
        with pytest.raises(ApplicationError) as broker_itself:
            licence_renew(licence=term_licence, actor=world.broker_owner, expires_on=None, reason="x")
        assert broker_itself.value.code == "not_allowed"
        licence_renew(
            licence=term_licence, actor=officer, expires_on=datetime.date(2027, 12, 1), reason="Gia hạn"
        )
    term_licence.refresh_from_db()
    assert term_licence.status == "active" and term_licence.expires_on == datetime.date(2027, 12, 1)
    [event] = codes("licence.renewed")
    assert event.actor == officer and event.data["previous_status"] == "expired"
    assert Notification.objects.filter(user=world.trader_owner, kind="licence_reinstated").exists()


def test_an_expired_licence_signs_for_no_one_until_it_is_renewed(world, officer):
    licence = world.broker.licence
    BrokerLicence.objects.filter(pk=licence.pk).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert licences_expire() == 1
    refused = world.sign(world.broker_agent, world.broker_key)
    assert (refused.outcome, refused.reason_code) == ("rejected", "broker_licence_inactive")
    licence_renew(licence=licence, actor=officer, expires_on=None, reason="Gia hạn")
    assert world.sign(world.broker_agent, world.broker_key).outcome == "accepted"


def test_a_suspended_licence_is_not_renewed(broker_licence, officer):
    broker_licence.status = "suspended"
    broker_licence.save(update_fields=["status"])
    with pytest.raises(ApplicationError) as refused:
        licence_renew(licence=broker_licence, actor=officer, expires_on=None, reason="x")
    assert refused.value.code == "invalid_transition"


# --- the portal ---------------------------------------------------------------------------------


def portal(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert sign_in(client, username).status_code == 302
    return client


def test_a_broker_registers_proposes_an_agent_applies_and_sees_the_status(applicant_owner, applicant_signer):
    client = portal("applicant.owner")
    page = client.get(reverse("broker_licence"))
    assert page.status_code == 200 and page.context["form"] is not None
    refused = client.post(
        reverse("broker_licence"),
        {"contact_name": "Mai", "contact_phone": "0912345678", "contact_email": "m@bm.vn"},
    )
    assert refused.status_code == 400 and "agents_required" in str(refused.context["form"].non_field_errors())
    assert (
        client.post(reverse("agents"), {"user": applicant_signer.pk, "agent_number": "CC-5"}).status_code
        == 302
    )
    bad_phone = client.post(
        reverse("broker_licence"), {"contact_name": "Mai", "contact_phone": "12", "contact_email": "m@bm.vn"}
    )
    assert bad_phone.status_code == 400 and "contact_phone" in bad_phone.context["form"].errors
    done = client.post(
        reverse("broker_licence"),
        {
            "licence_number": "",
            "contact_name": "Mai",
            "contact_phone": "0912345678",
            "contact_email": "m@bm.vn",
        },
    )
    assert done.status_code == 302
    application = LicenceApplication.objects.get()
    assert application.contact_phone == "+84912345678"
    page = client.get(reverse("broker_licence"))
    assert page.context["form"] is None and "Awaiting review" in page.content.decode()
    assert client.post(reverse("broker_licence"), {"contact_name": "again"}).status_code == 302
    assert LicenceApplication.objects.count() == 1


def test_the_licence_page_shows_the_licence_and_is_for_managers_only(
    broker_owner, broker_licence, broker_agent, trader_signer
):
    page = portal("broker.owner").get(reverse("broker_licence"))
    assert page.status_code == 200 and broker_licence.number in page.content.decode()
    assert page.context["form"] is None
    for staff in ("broker.agent", "trader.signer"):
        client = portal(staff)
        assert client.get(reverse("broker_licence")).status_code == 404
        assert client.post(reverse("broker_licence"), {"contact_name": "x"}).status_code == 404
    assert not LicenceApplication.objects.exists()
    assert Client().get(reverse("broker_licence")).status_code == 302


def test_another_enterprise_sees_neither_the_application_nor_the_proposals(application, outsider):
    page = portal("outsider").get(reverse("broker_licence"))
    assert page.status_code == 200 and list(page.context["applications"]) == []
    agents = portal("outsider").get(reverse("agents"))
    assert "CC-100" not in agents.content.decode()


def test_registration_offers_the_broker_kind(client):
    page = client.get(reverse("register"))
    assert 'name="kind"' in page.content.decode()
    assert dict(page.context["form"].fields["kind"].choices) == dict(Organization.Kind.choices)


def test_applications_and_proposals_factories_make_valid_rows():
    application = LicenceApplicationFactory()
    application.full_clean()
    assert application.status == "submitted"


@pytest.mark.parametrize("value", ["\x00", "abc\x00def", "²", "9" * 400, "\u202e1", "<script>x</script>"])
def test_hostile_input_to_the_licensing_forms_is_a_form_error(applicant_owner, applicant_signer, value):
    client = portal("applicant.owner")
    proposal = client.post(reverse("agents"), {"user": value, "agent_number": value})
    assert proposal.status_code == 400 and proposal.context["form"].errors
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-9")
    application = client.post(
        reverse("broker_licence"),
        {"licence_number": value, "contact_name": value, "contact_phone": value, "contact_email": value},
    )
    assert application.status_code == 400 and "contact_phone" in application.context["form"].errors
    assert not LicenceApplication.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_applying_at_once_leave_exactly_one_application(applicant_owner, applicant_signer):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-1")
    administrator = UserFactory(organization=applicant_owner.organization, role=User.Role.ADMINISTRATOR)
    barrier = threading.Barrier(2)
    outcomes = []

    def submit(actor):
        try:
            barrier.wait()
            apply(User.objects.get(pk=actor.pk))
            outcomes.append("ok")
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(actor,)) for actor in (applicant_owner, administrator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["application_pending", "ok"]
    assert LicenceApplication.objects.count() == 1
