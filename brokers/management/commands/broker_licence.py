from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import Organization, User
from accounts.validators import normalize_tax_code
from brokers.models import AgentProposal, AgentStaff, BrokerLicence, LicenceApplication
from brokers.services.agents import agent_leave, agent_register
from brokers.services.licences import (
    broker_licence_grant,
    licence_reinstate,
    licence_renew,
    licence_revoke,
    licence_suspend,
)
from brokers.services.licensing import licence_application_grant, licence_application_reject
from core.commands import OperatorCommand

STATUS_CHANGES = {"suspend": licence_suspend, "reinstate": licence_reinstate, "revoke": licence_revoke}


class Command(OperatorCommand):
    help = (
        "Customs' licensing decisions from the command line, by the same services as the officer "
        "console: grant (an enterprise's pending application with the agents it proposed, or a licence "
        "customs issued outside the portal), reject, renew, suspend, reinstate, revoke, add-agent, "
        "remove-agent."
    )
    command_name = "broker_licence"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, title="actions")
        grant = actions.add_parser("grant", help="grant a licence to an enterprise, by its tax code")
        grant.add_argument("tax_code")
        grant.add_argument("--number", required=True, help="the licence number, e.g. DLHQ-0001/2026")
        grant.add_argument("--issued-on", required=True, help="YYYY-MM-DD")
        grant.add_argument("--expires-on", help="YYYY-MM-DD, the last valid day; none by default")
        grant.add_argument("--issued-by", default="", help="the issuing department")
        reject = actions.add_parser("reject", help="reject an enterprise's pending application")
        reject.add_argument("tax_code")
        reject.add_argument("--reason", required=True)
        renew = actions.add_parser("renew", help="give an active or expired licence a new last day")
        renew.add_argument("number")
        renew.add_argument("--expires-on", help="YYYY-MM-DD; omit for no end date")
        renew.add_argument("--reason", required=True)
        for name in sorted(STATUS_CHANGES):
            change = actions.add_parser(name, help=f"{name} a licence, with a reason")
            change.add_argument("number")
            change.add_argument("--reason", required=True)
        add = actions.add_parser("add-agent", help="register a member of the broker as a customs agent")
        add.add_argument("number", help="the licence number")
        add.add_argument("--user", required=True, help="the member's username")
        add.add_argument("--agent-number", required=True)
        remove = actions.add_parser("remove-agent", help="an agent leaves: no more signing, keys revoked")
        remove.add_argument("agent_number")
        remove.add_argument("--left-on", help="YYYY-MM-DD; today by default")

    def handle(self, *args, action: str, **options):
        handler = getattr(self, f"_{action.replace('-', '_')}", None) or self._status_change
        handler(action=action, **options)

    def _grant(self, *, tax_code: str, number: str, issued_on: str, expires_on, issued_by: str, **_):
        organization = self._organization(tax_code)
        terms = {
            "number": number,
            "issued_by": issued_by,
            "issued_on": self._date(issued_on, "--issued-on"),
            "expires_on": self._date(expires_on, "--expires-on") if expires_on else None,
            "actor": None,
        }
        application = self._pending_application(organization, required=False)
        if application is None:
            licence = broker_licence_grant(organization=organization, **terms)
        else:
            agents = AgentProposal.objects.filter(
                organization=organization, status=AgentProposal.Status.PROPOSED
            )
            licence = licence_application_grant(application=application, agents=list(agents), **terms)
        confirmed = licence.agents.count()
        self.stdout.write(f"{licence.number}: {licence.status}, {organization.name}, {confirmed} agent(s)")

    def _reject(self, *, tax_code: str, reason: str, **_):
        application = self._pending_application(self._organization(tax_code), required=True)
        application = licence_application_reject(application=application, actor=None, reason=reason)
        self.stdout.write(f"{application.organization.tax_code}: application {application.status}")

    def _renew(self, *, number: str, expires_on, reason: str, **_):
        licence = licence_renew(
            licence=self._licence(number),
            actor=None,
            expires_on=self._date(expires_on, "--expires-on") if expires_on else None,
            reason=reason,
        )
        until = f"{licence.expires_on:%Y-%m-%d}" if licence.expires_on else "no end date"
        self.stdout.write(f"{licence.number}: {licence.status} until {until}")

    def _status_change(self, *, action: str, number: str, reason: str, **_):
        licence = STATUS_CHANGES[action](licence=self._licence(number), actor=None, reason=reason)
        self.stdout.write(f"{licence.number}: {licence.status}")

    def _add_agent(self, *, number: str, user: str, agent_number: str, **_):
        licence = self._licence(number)
        person = User.objects.filter(username=user, organization_id=licence.organization_id).first()
        if person is None:
            raise self.refuse(f"unknown_user: no account {user} in {licence.organization.name}")
        agent = agent_register(
            user=person,
            licence=licence,
            agent_number=agent_number,
            joined_on=timezone.localdate(),
            actor=None,
        )
        self.stdout.write(f"{agent.agent_number}: {person.username}, agent of {licence.number}")

    def _remove_agent(self, *, agent_number: str, left_on, **_):
        agent = AgentStaff.objects.filter(agent_number=agent_number).first()
        if agent is None:
            raise self.refuse(f"unknown_agent: no agent numbered {agent_number}")
        day = self._date(left_on, "--left-on") if left_on else timezone.localdate()
        agent = agent_leave(agent=agent, left_on=day, actor=None)
        self.stdout.write(f"{agent.agent_number}: left on {agent.left_on:%Y-%m-%d}")

    def _organization(self, tax_code: str) -> Organization:
        organization = Organization.objects.filter(tax_code=normalize_tax_code(tax_code)).first()
        if organization is None:
            raise self.refuse(f"unknown_organization: no enterprise has the tax code {tax_code}")
        return organization

    def _licence(self, number: str) -> BrokerLicence:
        licence = BrokerLicence.objects.select_related("organization").filter(number=number).first()
        if licence is None:
            raise self.refuse(f"unknown_licence: no licence numbered {number}")
        return licence

    def _pending_application(
        self, organization: Organization, *, required: bool
    ) -> LicenceApplication | None:
        application = LicenceApplication.objects.filter(
            organization=organization, status=LicenceApplication.Status.SUBMITTED
        ).first()
        if application is None and required:
            raise self.refuse(f"no_application: {organization.tax_code} has no application awaiting review")
        return application

    def _date(self, value: str, option: str) -> datetime.date:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise self.refuse(f"invalid_date: {option} must be a date such as 2026-12-31") from None
