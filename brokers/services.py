"""Writes for broker licences and agent staff."""

from __future__ import annotations

import datetime

from django.db import transaction

from accounts.models import Organization, User
from audit.models import Action
from audit.services import audit_event_record
from brokers.models import AgentStaff, BrokerLicence


@transaction.atomic
def broker_licence_grant(
    *, organization: Organization, number: str, issued_by: str, issued_on: datetime.date, actor: User | None
) -> BrokerLicence:
    """Grant a brokerage licence to a broker organisation; records ``licence.granted``."""
    licence = BrokerLicence(
        organization=organization, number=number, issued_by=issued_by, issued_on=issued_on
    )
    licence.full_clean()
    licence.save()
    audit_event_record(
        action=Action.LICENCE_GRANTED,
        actor=actor,
        organization=organization,
        target=licence,
        data={"number": licence.number, "issued_by": licence.issued_by, "issued_on": issued_on.isoformat()},
    )
    return licence


@transaction.atomic
def agent_register(
    *, user: User, licence: BrokerLicence, agent_number: str, joined_on: datetime.date, actor: User | None
) -> AgentStaff:
    """Register one of the broker's people as a customs agent; records ``agent.registered``."""
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
