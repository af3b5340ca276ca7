"""Becoming a customs broker (Circular 12/2015, amended by 22/2019): an enterprise proposes its
customs agents and applies; officers grant the licence (confirming agents) or reject the
application; later agents are proposed by the broker and confirmed by officers."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, Organization, User
from accounts.selectors import officers_with_permission
from accounts.services.notifications import notification_send, notifications_send
from accounts.services.permissions import require_manager, require_officer, require_reason
from audit.models import Action
from audit.services.events import audit_event_record
from brokers.models import AgentProposal, AgentStaff, BrokerLicence, LicenceApplication
from brokers.selectors import manager_list
from brokers.services.agents import agent_register
from brokers.services.licences import broker_licence_grant
from core.errors import ApplicationError

# Agents sign declarations for clients, so they hold a signing or preparing role (never a manager's).
AGENT_ROLES = (User.Role.SIGNER, User.Role.DECLARANT)
# The permissions the console's licensing decisions require (officers.admin.licensing checks
# them): the officers who hold one are told of each application, or proposal, they may decide.
DECIDE_APPLICATION = "brokers.change_licenceapplication"
DECIDE_PROPOSAL = "brokers.change_agentproposal"


@transaction.atomic
def agent_propose(*, actor: User, user: User, agent_number: str) -> AgentProposal:
    """The enterprise's owner or an administrator proposes one of its signers or declarants as a
    customs agent, with their agent certificate number; an officer confirms it. Records
    ``agent.proposed`` and tells the officers who may confirm it (``agent_proposal_announce``).
    Raises ``ApplicationError``: ``not_allowed`` (another enterprise, not a manager),
    ``agent_not_eligible`` (a manager, inactive, already an agent or proposed),
    ``duplicate_agent_number``, ``invalid_input`` (no number)."""
    require_manager(actor, user.organization_id)
    # Serialises an enterprise's proposals, so a double submission finds the first one.
    Organization.objects.select_for_update().filter(pk=user.organization_id).first()
    agent_number = agent_number.strip()
    if not agent_number:
        raise ApplicationError(
            gettext("Give the agent certificate number."), code="invalid_input", fields={"agent_number": []}
        )
    if (
        user.role not in AGENT_ROLES
        or not user.is_active
        or AgentStaff.objects.filter(user=user).exists()
        or AgentProposal.objects.filter(user=user, status=AgentProposal.Status.PROPOSED).exists()
    ):
        raise ApplicationError(
            gettext(
                "Only an active signer or declarant who is not yet an agent, nor proposed as one, can be "
                "proposed."
            ),
            code="agent_not_eligible",
            fields={"user": []},
        )
    if (
        AgentStaff.objects.filter(agent_number=agent_number).exists()
        or AgentProposal.objects.filter(
            agent_number=agent_number, status=AgentProposal.Status.PROPOSED
        ).exists()
    ):
        raise ApplicationError(
            gettext("This agent certificate number is already registered or proposed."),
            code="duplicate_agent_number",
            fields={"agent_number": []},
        )
    proposal = AgentProposal(
        organization=user.organization, user=user, agent_number=agent_number, proposed_by=actor
    )
    proposal.full_clean()
    proposal.save()
    audit_event_record(
        action=Action.AGENT_PROPOSED,
        actor=actor,
        organization=user.organization,
        target=proposal,
        data={"agent_number": agent_number, "user": str(user.pk)},
    )
    agent_proposal_announce(proposal=proposal)
    return proposal


def agent_proposal_announce(*, proposal: AgentProposal) -> list[Notification]:
    """Tell the officers who may confirm the proposal (``DECIDE_PROPOSAL``) that it awaits them,
    with an email linking to its console page; an officer already told of it is not told again.
    Only a proposal a registrar can decide on its own is announced: that of an enterprise holding
    a licence. An applicant's proposals are decided with its application, whose notice counts
    them (``licence_application_announce``). Returns the notices written."""
    licensed = BrokerLicence.objects.filter(organization_id=proposal.organization_id).exclude(
        status=BrokerLicence.Status.REVOKED
    )
    if not licensed.exists():
        return []
    return _deciders_tell(
        permission=DECIDE_PROPOSAL,
        kind=Notification.Kind.AGENT_PROPOSED,
        organization=proposal.organization,
        about={"proposal": proposal.pk},
    )


def licence_application_announce(*, application: LicenceApplication) -> list[Notification]:
    """Tell the officers who may decide the application (``DECIDE_APPLICATION``) that it awaits
    them, with the number of agents proposed and an email linking to its console page; an officer
    already told of this application is not told again (an application submitted again after a
    rejection is a new one, and is told). Returns the notices written."""
    agents = AgentProposal.objects.filter(
        organization_id=application.organization_id, status=AgentProposal.Status.PROPOSED
    ).count()
    return _deciders_tell(
        permission=DECIDE_APPLICATION,
        kind=Notification.Kind.LICENCE_APPLIED,
        organization=application.organization,
        about={"application": application.pk},
        agents=agents,
    )


def _deciders_tell(
    *, permission: str, kind: str, organization: Organization, about: dict[str, int], **params
) -> list[Notification]:
    """A notice (and its email, after the commit) to each officer holding ``permission`` who has no
    notice of ``kind`` about the same object yet. The enterprise is named by its name and tax
    code, public facts; nothing personal is written."""
    officers = list(officers_with_permission(permission=permission))
    [(key, pk)] = about.items()
    told = set(
        Notification.objects.filter(user__in=officers, kind=kind, **{f"params__{key}": pk}).values_list(
            "user_id", flat=True
        )
    )
    params = {"broker": organization.name, "tax_code": organization.tax_code, **about, **params}
    items = [(officer, kind, params) for officer in officers if officer.pk not in told]
    return notifications_send(items=items) if items else []


@transaction.atomic
def agent_proposal_confirm(
    *, proposal: AgentProposal, actor: User | None, joined_on: datetime.date | None = None
) -> AgentStaff:
    """An officer (or the operator, ``actor=None``) confirms a proposed agent under the enterprise's
    licence: ``agent_register`` records ``agent.registered``. Raises ``ApplicationError``:
    ``not_allowed``, ``invalid_transition`` (already decided), ``no_licence``."""
    require_officer(actor, system_allowed=True)
    proposal = AgentProposal.objects.select_for_update().select_related("user").get(pk=proposal.pk)
    if proposal.status != AgentProposal.Status.PROPOSED:
        raise ApplicationError(gettext("This proposal has already been decided."), code="invalid_transition")
    licence = BrokerLicence.objects.filter(organization_id=proposal.organization_id).first()
    if licence is None or licence.status == BrokerLicence.Status.REVOKED:
        raise ApplicationError(
            gettext("The enterprise holds no licence: grant its application first."), code="no_licence"
        )
    agent = agent_register(
        user=proposal.user,
        licence=licence,
        agent_number=proposal.agent_number,
        joined_on=joined_on or timezone.localdate(),
        actor=actor,
    )
    proposal.record_decision(status=AgentProposal.Status.CONFIRMED, actor=actor, agent=agent)
    return agent


@transaction.atomic
def agent_proposal_reject(*, proposal: AgentProposal, actor: User | None, reason: str) -> AgentProposal:
    """An officer refuses a proposed agent (a certificate number customs cannot match, …); records
    ``agent.proposal_rejected`` with the reason, which the enterprise sees in the portal."""
    require_officer(actor, system_allowed=True)
    reason = require_reason(reason)
    proposal = AgentProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != AgentProposal.Status.PROPOSED:
        raise ApplicationError(gettext("This proposal has already been decided."), code="invalid_transition")
    proposal.record_decision(status=AgentProposal.Status.REJECTED, actor=actor, reason=reason)
    audit_event_record(
        action=Action.AGENT_PROPOSAL_REJECTED,
        actor=actor,
        organization=proposal.organization,
        target=proposal,
        data={"agent_number": proposal.agent_number, "reason": reason[:500]},
    )
    return proposal


@transaction.atomic
def licence_application_submit(
    *, actor: User, contact_name: str, contact_phone: str, contact_email: str, licence_number: str = ""
) -> LicenceApplication:
    """The enterprise's owner or an administrator applies for a brokerage licence, with the
    number customs already issued if any. A trader may apply too: the grant makes it a broker.
    Needs at least one proposed agent (the Customs Law asks a broker for at least one). Records
    ``licence.applied`` and tells the officers who may decide it
    (``licence_application_announce``). Raises ``ApplicationError``: ``not_allowed``,
    ``already_licensed``, ``application_pending``, ``agents_required``; ``ValidationError`` for
    the contact."""
    require_manager(actor, actor.organization_id)
    # Two managers applying at once: the second waits here and then finds the first application.
    organization = Organization.objects.select_for_update().get(pk=actor.organization_id)
    if BrokerLicence.objects.filter(organization=organization).exists():
        raise ApplicationError(
            gettext("Your enterprise already holds a brokerage licence."), code="already_licensed"
        )
    if LicenceApplication.objects.filter(
        organization=organization, status=LicenceApplication.Status.SUBMITTED
    ).exists():
        raise ApplicationError(
            gettext("Your application is already awaiting review."), code="application_pending"
        )
    proposed = AgentProposal.objects.filter(
        organization=organization, status=AgentProposal.Status.PROPOSED
    ).count()
    if not proposed:
        raise ApplicationError(
            gettext("Propose at least one customs agent, with their certificate number, first."),
            code="agents_required",
        )
    application = LicenceApplication(
        organization=organization,
        licence_number=licence_number.strip(),
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
        submitted_by=actor,
    )
    application.full_clean()
    application.save()
    audit_event_record(
        action=Action.LICENCE_APPLIED,
        actor=actor,
        organization=organization,
        target=application,
        data={"licence_number": application.licence_number, "agents": proposed},
    )
    licence_application_announce(application=application)
    return application


@transaction.atomic
def licence_application_grant(
    *,
    application: LicenceApplication,
    actor: User | None,
    number: str,
    issued_on: datetime.date,
    issued_by: str = "",
    expires_on: datetime.date | None = None,
    agents: Iterable[AgentProposal] = (),
) -> BrokerLicence:
    """An officer grants an application: the licence (``broker_licence_grant``, which lists the
    broker in the directory at once), then each chosen proposed agent is confirmed. Other
    proposals stay for later. Raises ``ApplicationError`` (``invalid_transition``, ``invalid_input``
    for an agent proposed by another enterprise) or ``ValidationError``; nothing changes then."""
    require_officer(actor, system_allowed=True)
    application = LicenceApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != LicenceApplication.Status.SUBMITTED:
        raise ApplicationError(
            gettext("This application has already been decided."), code="invalid_transition"
        )
    chosen = list(agents)
    if any(proposal.organization_id != application.organization_id for proposal in chosen):
        raise ApplicationError(
            gettext("Choose agents this enterprise proposed."), code="invalid_input", fields={"agents": []}
        )
    licence = broker_licence_grant(
        organization=application.organization,
        number=number,
        issued_by=issued_by,
        issued_on=issued_on,
        expires_on=expires_on,
        actor=actor,
    )
    application.record_decision(status=LicenceApplication.Status.GRANTED, actor=actor, licence=licence)
    for proposal in chosen:
        agent_proposal_confirm(proposal=proposal, actor=actor)
    return licence


@transaction.atomic
def licence_application_reject(
    *, application: LicenceApplication, actor: User | None, reason: str
) -> LicenceApplication:
    """An officer rejects an application with a reason, told to the enterprise's managers; its
    proposed agents stay proposed, for a corrected application. Records
    ``licence.application_rejected``."""
    require_officer(actor, system_allowed=True)
    reason = require_reason(reason)
    application = (
        LicenceApplication.objects.select_for_update().select_related("organization").get(pk=application.pk)
    )
    if application.status != LicenceApplication.Status.SUBMITTED:
        raise ApplicationError(
            gettext("This application has already been decided."), code="invalid_transition"
        )
    application.record_decision(status=LicenceApplication.Status.REJECTED, actor=actor, reason=reason)
    audit_event_record(
        action=Action.LICENCE_APPLICATION_REJECTED,
        actor=actor,
        organization=application.organization,
        target=application,
        data={"reason": reason[:500]},
    )
    for person in manager_list(organization=application.organization):
        notification_send(
            user=person,
            kind=Notification.Kind.LICENCE_REJECTED,
            broker=application.organization.name,
            reason=reason[:500],
        )
    return application
