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
    *,
    organization: Organization,
    number: str,
    issued_by: str,
    issued_on: datetime.date,
    actor: User | None,
    expires_on: datetime.date | None = None,
) -> BrokerLicence:
    """Grant a brokerage licence (an officer, or the operator or the system with ``actor=None``).
    The broker is in the directory from this commit on; a trader granted one becomes a broker.
    Records ``licence.granted`` and tells the enterprise's managers. Raises ``ApplicationError``
    (``not_allowed``, ``already_licensed``, ``invalid_date``) or ``ValidationError`` (a number
    already used)."""
    require_officer(actor, system_allowed=True)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if BrokerLicence.objects.filter(organization=organization).exists():
        raise ApplicationError(
            gettext("This enterprise already holds a brokerage licence: renew or reinstate it."),
            code="already_licensed",
        )
    today = timezone.localdate()
    if issued_on > today:
        raise ApplicationError(
            gettext("A licence cannot be issued in the future."),
            code="invalid_date",
            fields={"issued_on": []},
        )
    if expires_on is not None and expires_on < today:
        raise ApplicationError(
            gettext("The licence would already have expired."), code="invalid_date", fields={"expires_on": []}
        )
    licence = BrokerLicence(
        organization=organization,
        number=number.strip(),
        issued_by=issued_by.strip(),
        issued_on=issued_on,
        expires_on=expires_on,
    )
    licence.full_clean()
    licence.save()
    became_broker = organization.kind != Organization.Kind.BROKER
    if became_broker:
        # The directory and the signing rules read the kind: a licensed trader now acts as a broker.
        organization.kind = Organization.Kind.BROKER
        organization.save(update_fields=["kind", "updated_at"])
    audit_event_record(
        action=Action.LICENCE_GRANTED,
        actor=actor,
        organization=organization,
        target=licence,
        data={
            "number": licence.number,
            "issued_by": licence.issued_by,
            "issued_on": issued_on.isoformat(),
            "expires_on": expires_on.isoformat() if expires_on else "",
            "became_broker": became_broker,
        },
    )
    _tell_parties_of_licence(licence, [], Notification.Kind.LICENCE_GRANTED)
    return licence


@transaction.atomic
def licence_renew(
    *, licence: BrokerLicence, actor: User | None, expires_on: datetime.date | None, reason: str
) -> BrokerLicence:
    """Give an active or expired licence a new last day (``None``: no term). An expired licence is
    active again, and its broker and the traders with live mandates are told. Records
    ``licence.renewed``. Raises ``ApplicationError``: ``not_allowed``, ``reason_required``,
    ``invalid_transition`` (suspended or revoked), ``invalid_date`` (a day already past)."""
    require_officer(actor, system_allowed=True)
    reason = require_reason(reason)
    licence = BrokerLicence.objects.select_for_update().select_related("organization").get(pk=licence.pk)
    if licence.status not in (BrokerLicence.Status.ACTIVE, BrokerLicence.Status.EXPIRED):
        raise ApplicationError(
            gettext("Only an active or expired licence can be renewed."), code="invalid_transition"
        )
    if expires_on is not None and expires_on < timezone.localdate():
        raise ApplicationError(
            gettext("Choose a last day that is not past."), code="invalid_date", fields={"expires_on": []}
        )
    previous_status, previous_expiry = licence.status, licence.expires_on
    licence.expires_on = expires_on
    licence.status = BrokerLicence.Status.ACTIVE
    licence.status_reason = reason
    licence.status_changed_at = timezone.now()
    licence.full_clean()
    licence.save(update_fields=["expires_on", "status", "status_reason", "status_changed_at"])
    _licence_event(
        licence,
        Action.LICENCE_RENEWED,
        actor,
        reason,
        expires_on=expires_on.isoformat() if expires_on else "",
        previous_expires_on=previous_expiry.isoformat() if previous_expiry else "",
        previous_status=previous_status,
    )
    if previous_status == BrokerLicence.Status.EXPIRED:
        _tell_parties_of_licence(licence, _live_mandates(licence), Notification.Kind.LICENCE_REINSTATED)
    return licence


def licences_expire(*, today: datetime.date | None = None) -> int:
    """The periodic sweep: every active licence past its last day becomes ``expired``; it signs for
    no one until renewed (its mandates and keys are kept, unlike a revocation). Each licence is
    its own transaction, records ``licence.expired`` and tells the broker's managers and those of
    every trader with a live mandate. Idempotent: an expired licence is not looked at again."""
    today = today or timezone.localdate()
    due = BrokerLicence.objects.filter(status=BrokerLicence.Status.ACTIVE, expires_on__lt=today)
    expired = 0
    for licence_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            # Claimed under the row lock: a renewal that committed meanwhile wins.
            licence = (
                BrokerLicence.objects.select_for_update()
                .select_related("organization")
                .filter(pk=licence_id, status=BrokerLicence.Status.ACTIVE, expires_on__lt=today)
                .first()
            )
            if licence is None:
                continue
            licence.status = BrokerLicence.Status.EXPIRED
            licence.status_changed_at = timezone.now()
            licence.save(update_fields=["status", "status_changed_at"])
            _licence_event(
                licence, Action.LICENCE_EXPIRED, None, "", expires_on=licence.expires_on.isoformat()
            )
            _tell_parties_of_licence(
                licence,
                _live_mandates(licence),
                Notification.Kind.LICENCE_EXPIRED,
                date=licence.expires_on.isoformat(),
            )
            expired += 1
    return expired


def _live_mandates(licence: BrokerLicence) -> list[Authorization]:
    return list(
        Authorization.objects.select_related("trader").filter(
            broker=licence.organization, status__in=Authorization.LIVE_STATUSES
        )
    )


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


def _tell_parties_of_licence(licence: BrokerLicence, mandates: list, kind: str, **params) -> None:
    people = set(manager_list(organization=licence.organization))
    for mandate in mandates:
        people.update(manager_list(organization=mandate.trader))
    for person in people:
        notification_send(
            user=person, kind=kind, broker=licence.organization.name, licence=licence.number, **params
        )
