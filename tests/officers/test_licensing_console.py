"""Licensing in the officer console: applications granted (with agents) or rejected, proposals
confirmed, agents added and removed, licences renewed; only registrars and administrators may."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Organization, User
from audit.models import AuditEvent
from brokers.models import AgentProposal, AgentStaff, BrokerLicence, LicenceApplication
from brokers.services.licensing import agent_propose, licence_application_submit
from tests.factories import AgentProposalFactory, OrganizationFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(db) -> LicenceApplication:
    applicant = OrganizationFactory(kind=Organization.Kind.BROKER)
    owner = UserFactory(organization=applicant, role=User.Role.OWNER, username="applicant.owner")
    signer = UserFactory(organization=applicant, role=User.Role.SIGNER)
    agent_propose(actor=owner, user=signer, agent_number="CC-100")
    return licence_application_submit(
        actor=owner, contact_name="Trần Thị Mai", contact_phone="+84912345678", contact_email="m@bm.vn"
    )


def codes(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def portal(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert sign_in(client, username).status_code == 302
    return client


# --- the console --------------------------------------------------------------------------------


def action(model: str, pk: int, name: str) -> str:
    return f"/officers/brokers/{model}/{pk}/do/{name}/"


def test_a_registrar_grants_an_application_in_the_console(console, application):
    client = console("registrar")
    proposal = AgentProposal.objects.get()
    page = client.get(f"/officers/brokers/licenceapplication/{application.pk}/change/")
    assert action("licenceapplication", application.pk, "grant") in page.content.decode()
    form = client.get(action("licenceapplication", application.pk, "grant"))
    assert list(form.context["form"].fields["agents"].queryset) == [proposal]
    bad = client.post(
        action("licenceapplication", application.pk, "grant"),
        {"number": "DLHQ-8", "issued_on": "2026-01-10", "expires_on": "2025-01-01", "agents": [proposal.pk]},
    )
    assert bad.status_code == 400 and "expires_on" in bad.context["form"].errors
    done = client.post(
        action("licenceapplication", application.pk, "grant"),
        {"number": "DLHQ-8", "issued_on": timezone.localdate().isoformat(), "agents": [proposal.pk]},
    )
    assert done.status_code == 302
    licence = BrokerLicence.objects.get(number="DLHQ-8")
    assert licence.agents.get().agent_number == "CC-100"
    assert codes("licence.granted")[0].actor == client.officer


def test_a_registrar_rejects_an_application_with_a_reason(console, application):
    client = console("registrar")
    url = action("licenceapplication", application.pk, "reject")
    assert client.post(url, {"reason": " "}).status_code == 400
    assert client.post(url, {"reason": "Hồ sơ thiếu"}).status_code == 302
    application.refresh_from_db()
    assert application.status == "rejected" and application.decided_by == client.officer


def test_a_registrar_confirms_removes_and_adds_agents(console, broker, broker_agent):
    client = console("registrar")
    proposal = AgentProposalFactory(organization=broker)
    assert client.post(action("agentproposal", proposal.pk, "confirm"), {}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == "confirmed" and proposal.agent.licence == broker.licence
    agent = broker_agent.agent_profile
    removed = client.post(
        action("agentstaff", agent.pk, "remove"), {"left_on": timezone.localdate().isoformat()}
    )
    assert removed.status_code == 302
    agent.refresh_from_db()
    assert agent.left_on == timezone.localdate()
    newcomer = UserFactory(organization=broker, role="signer")
    stranger = UserFactory(organization=OrganizationFactory(), role="signer")
    url = action("brokerlicence", broker.licence.pk, "add_agent")
    foreign = client.post(url, {"user": stranger.pk, "agent_number": "DL-X"})
    assert foreign.status_code == 400 and not AgentStaff.objects.filter(user=stranger).exists()
    assert client.post(url, {"user": newcomer.pk, "agent_number": "DL-X"}).status_code == 302
    assert AgentStaff.objects.get(user=newcomer).agent_number == "DL-X"


def test_a_registrar_renews_a_licence(console, broker_licence):
    client = console("registrar")
    url = action("brokerlicence", broker_licence.pk, "renew")
    until = (timezone.localdate() + datetime.timedelta(days=400)).isoformat()
    assert client.post(url, {"expires_on": until, "reason": "Gia hạn"}).status_code == 302
    broker_licence.refresh_from_db()
    assert broker_licence.expires_on.isoformat() == until


@pytest.mark.parametrize("group", ["viewer", "investigator"])
def test_officers_without_the_registrar_permission_cannot_decide(console, application, group):
    client = console(group)
    assert (
        client.post(
            action("licenceapplication", application.pk, "grant"), {"number": "X", "issued_on": "2026-01-01"}
        ).status_code
        == 403
    )
    assert (
        client.post(action("licenceapplication", application.pk, "reject"), {"reason": "x"}).status_code
        == 403
    )
    application.refresh_from_db()
    assert application.status == "submitted"


def test_portal_users_cannot_reach_the_console_actions(application):
    client = portal("applicant.owner")
    response = client.post(action("licenceapplication", application.pk, "reject"), {"reason": "x"})
    assert response.status_code == 302 and "/officers/login/" in response.url
    application.refresh_from_db()
    assert application.status == "submitted"


def test_viewers_read_applications_and_proposals_without_their_actions(console, application):
    client = console("viewer")
    proposal = AgentProposal.objects.get()
    listing = client.get("/officers/brokers/licenceapplication/")
    assert listing.status_code == 200 and application.organization.name in listing.content.decode()
    page = client.get(f"/officers/brokers/agentproposal/{proposal.pk}/change/")
    assert page.status_code == 200 and "CC-100" in page.content.decode()
    assert action("agentproposal", proposal.pk, "confirm") not in page.content.decode()
    assert client.post(action("agentproposal", proposal.pk, "confirm"), {}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    # The list of proposed people is personal data: reading it is audited.
    client.get("/officers/brokers/agentproposal/")
    assert AuditEvent.objects.filter(action="officer.viewed", actor=client.officer).count() == 2


def test_the_dashboard_lists_what_awaits_a_licensing_decision(console, application):
    client = console("viewer")
    response = client.get("/officers/")
    panel = next(p for p in response.context["panels"] if p.key == "licensing")
    organization = application.organization
    assert [row[:4] for row in panel.rows] == [
        [organization.name, organization.tax_code, "proposed agent", "CC-100"],
        [organization.name, organization.tax_code, "licence application", ""],
    ]
    csv = client.get("/officers/dashboard/licensing.csv")
    assert csv.status_code == 200 and "CC-100" in csv.content.decode()
