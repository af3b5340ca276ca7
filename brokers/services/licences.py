"""Brokerage licences: granted, suspended by customs (or by the system after missed reports),
reinstated and revoked, with what each change does to the broker's mandates and API keys (DESIGN §4)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, Organization, User
from accounts.services.notifications import notification_send
from accounts.services.permissions import require_officer, require_reason
from audit.models import Action
from audit.services.events import audit_event_record
from brokers.models import Authorization, BrokerLicence, OrganizationAPIKey
from brokers.selectors import manager_list
from brokers.services.mandates import authorization_end
from core.errors import ApplicationError


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


def _licence_event(licence: BrokerLicence, action: str, actor: User | None, reason: str, **data) -> None:
    audit_event_record(
        action=action,
        actor=actor,
        organization=licence.organization,
        target=licence,
        data={"number": licence.number, "reason": reason[:500], **data},
    )


@transaction.atomic
def licence_suspend(*, licence: BrokerLicence, actor: User | None, reason: str) -> BrokerLicence:
    """Suspend an active licence (an officer, or the system after missed reports where
    ``BROKER_AUTO_SUSPEND``). Its active mandates become ``suspended`` and its API keys stop
    working; its signatures are refused while the licence is not active. Records
    ``licence.suspended`` and a ``authorization.suspended`` event per mandate."""
    require_officer(actor, system_allowed=True)
    reason = require_reason(reason)
    licence = BrokerLicence.objects.select_for_update().get(pk=licence.pk)
    if licence.status != BrokerLicence.Status.ACTIVE:
        raise ApplicationError(gettext("Only an active licence can be suspended."), code="invalid_transition")
    now = timezone.now()
    licence.status = BrokerLicence.Status.SUSPENDED
    licence.status_reason = reason
    licence.status_changed_at = licence.suspended_at = now
    licence.save(update_fields=["status", "status_reason", "status_changed_at", "suspended_at"])
    mandates = list(
        Authorization.objects.select_for_update().filter(
            broker=licence.organization, status=Authorization.Status.ACTIVE
        )
    )
    for mandate in mandates:
        mandate.status = Authorization.Status.SUSPENDED
        mandate.suspended_at = now
        mandate.save(update_fields=["status", "suspended_at"])
        audit_event_record(
            action=Action.AUTHORIZATION_SUSPENDED,
            actor=actor,
            organization=mandate.trader,
            target=mandate,
            data={"licence": licence.number},
        )
    keys = OrganizationAPIKey.objects.filter(
        organization=licence.organization, revoked=False, suspended_at__isnull=True
    )
    suspended_keys = keys.update(suspended_at=now)
    _licence_event(
        licence,
        Action.LICENCE_SUSPENDED,
        actor,
        reason,
        mandates=len(mandates),
        keys_suspended=suspended_keys,
    )
    _tell_parties_of_licence(licence, mandates, Notification.Kind.LICENCE_SUSPENDED)
    return licence


@transaction.atomic
def licence_reinstate(*, licence: BrokerLicence, actor: User | None, reason: str) -> BrokerLicence:
    """Lift a suspension: exactly the mandates and API keys the suspension stopped come back
    (those revoked or expired meanwhile stay so); a mandate whose window ended meanwhile expires."""
    require_officer(actor, system_allowed=True)
    reason = require_reason(reason)
    licence = BrokerLicence.objects.select_for_update().get(pk=licence.pk)
    if licence.status != BrokerLicence.Status.SUSPENDED:
        raise ApplicationError(gettext("This licence is not suspended."), code="invalid_transition")
    today = timezone.localdate()
    restored = 0
    for mandate in Authorization.objects.select_for_update().filter(
        broker=licence.organization, status=Authorization.Status.SUSPENDED
    ):
        ended = mandate.valid_until < today
        mandate.status = Authorization.Status.EXPIRED if ended else Authorization.Status.ACTIVE
        mandate.suspended_at = None
        if ended:
            mandate.ended_at, mandate.ended_by_party = timezone.now(), Authorization.Party.SYSTEM
        mandate.save(update_fields=["status", "suspended_at", "ended_at", "ended_by_party"])
        audit_event_record(
            action=Action.AUTHORIZATION_EXPIRED if ended else Action.AUTHORIZATION_ACCEPTED,
            actor=actor,
            organization=mandate.trader,
            target=mandate,
            data={"licence": licence.number, "reinstated": not ended},
        )
        restored += not ended
    keys = OrganizationAPIKey.objects.filter(
        organization=licence.organization, suspended_at__gte=licence.suspended_at
    ).update(suspended_at=None)
    licence.status = BrokerLicence.Status.ACTIVE
    licence.status_reason = reason
    licence.status_changed_at = timezone.now()
    licence.suspended_at = None
    licence.save(update_fields=["status", "status_reason", "status_changed_at", "suspended_at"])
    _licence_event(licence, Action.LICENCE_REINSTATED, actor, reason, mandates=restored, keys_restored=keys)
    _tell_parties_of_licence(licence, [], Notification.Kind.LICENCE_REINSTATED)
    return licence


@transaction.atomic
def licence_revoke(*, licence: BrokerLicence, actor: User | None, reason: str) -> BrokerLicence:
    """End a licence for good: every live mandate is revoked by customs and every key revoked."""
    require_officer(actor, system_allowed=True)
    reason = require_reason(reason)
    licence = BrokerLicence.objects.select_for_update().get(pk=licence.pk)
    if licence.status == BrokerLicence.Status.REVOKED:
        raise ApplicationError(gettext("This licence is already revoked."), code="invalid_transition")
    now = timezone.now()
    mandates = list(
        Authorization.objects.select_for_update().filter(
            broker=licence.organization, status__in=Authorization.LIVE_STATUSES
        )
    )
    for mandate in mandates:
        authorization_end(
            mandate=mandate,
            status=Authorization.Status.REVOKED,
            actor=actor,
            party=Authorization.Party.OFFICER,
            reason=reason,
        )
    OrganizationAPIKey.objects.filter(organization=licence.organization, revoked=False).update(revoked=True)
    licence.status = BrokerLicence.Status.REVOKED
    licence.status_reason = reason
    licence.status_changed_at = now
    licence.save(update_fields=["status", "status_reason", "status_changed_at"])
    _licence_event(licence, Action.LICENCE_REVOKED, actor, reason, mandates=len(mandates))
    _tell_parties_of_licence(licence, mandates, Notification.Kind.LICENCE_REVOKED)
    return licence


def _tell_parties_of_licence(licence: BrokerLicence, mandates: list, kind: str) -> None:
    people = set(manager_list(organization=licence.organization))
    for mandate in mandates:
        people.update(manager_list(organization=mandate.trader))
    for person in people:
        notification_send(user=person, kind=kind, broker=licence.organization.name, licence=licence.number)
