"""A broker's customs agents: registered under its licence, leaving it, and whether one may sign on a
given day (DESIGN §4)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from accounts.services.permissions import require_officer
from audit.models import Action
from audit.services.events import audit_event_record
from brokers.models import AgentStaff, BrokerLicence, OrganizationAPIKey
from core.errors import ApplicationError


@transaction.atomic
def agent_register(
    *, user: User, licence: BrokerLicence, agent_number: str, joined_on: datetime.date, actor: User | None
) -> AgentStaff:
    """Register one of the broker's people as a customs agent; records ``agent.registered``. By an
    officer or the operator (``actor=None``): customs recognises agents, so the broker proposes them
    (``licensing.agent_propose``) and an officer confirms. Raises ``ValidationError`` for a
    duplicate agent number and ``ApplicationError`` (``not_found``, ``not_allowed``)."""
    require_officer(actor, system_allowed=True)
    if user.organization_id != licence.organization_id:
        raise ApplicationError(
            gettext("No such person in this enterprise."), code="not_found", status_code=404
        )
    agent = AgentStaff(user=user, licence=licence, agent_number=agent_number, joined_on=joined_on)
    agent.full_clean()
    agent.save()
    audit_event_record(
        action=Action.AGENT_REGISTERED,
        actor=actor,
        organization=licence.organization,
        target=agent,
        data={"agent_number": agent_number, "user": str(user.pk), "joined_on": joined_on.isoformat()},
    )
    return agent


@transaction.atomic
def agent_leave(*, agent: AgentStaff, left_on: datetime.date, actor: User | None) -> AgentStaff:
    """An agent leaves the broker: from ``left_on`` they can no longer sign, and their API keys are
    revoked now. By the broker's owner or an administrator, an officer, or the operator (``None``)."""
    if (
        actor is not None
        and not actor.is_officer
        and (actor.organization_id != agent.licence.organization_id or not actor.is_manager)
    ):
        raise ApplicationError(gettext("You cannot change this agent."), code="not_allowed", status_code=403)
    agent = AgentStaff.objects.select_for_update().get(pk=agent.pk)
    if agent.left_on is not None:
        raise ApplicationError(gettext("This agent has already left."), code="invalid_transition")
    agent.left_on = left_on
    agent.full_clean()
    agent.save(update_fields=["left_on"])
    OrganizationAPIKey.objects.filter(user=agent.user, revoked=False).update(revoked=True)
    audit_event_record(
        action=Action.AGENT_LEFT,
        actor=actor,
        organization=agent.licence.organization,
        target=agent,
        data={"agent_number": agent.agent_number, "left_on": left_on.isoformat()},
    )
    return agent


def agent_is_current(agent: AgentStaff | None, on: datetime.date | None = None) -> bool:
    on = on or timezone.localdate()
    return agent is not None and agent.joined_on <= on and (agent.left_on is None or agent.left_on > on)
