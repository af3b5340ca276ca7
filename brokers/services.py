"""Writes for broker licences, agent staff, mandates and API keys (DESIGN §4, §6)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, Organization, User
from accounts.services import notification_send, require_officer, require_reason
from accounts.validators import normalize_tax_code
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from audit.services.flags import flag_raise
from brokers.models import (
    AgentStaff,
    Authorization,
    BrokerLicence,
    OperationReport,
    OrganizationAPIKey,
    ReportPeriod,
)
from brokers.selectors import operation_report_failed_streak
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


@transaction.atomic
def agent_register(
    *, user: User, licence: BrokerLicence, agent_number: str, joined_on: datetime.date, actor: User | None
) -> AgentStaff:
    """Register one of the broker's people as a customs agent; records ``agent.registered``. By the
    broker's owner or an administrator, an officer, or the system (``actor=None``). Raises
    ``ValidationError`` for a duplicate agent number and ``ApplicationError`` (``not_allowed``)."""
    if user.organization_id != licence.organization_id:
        raise ApplicationError(
            gettext("No such person in your organisation."), code="not_found", status_code=404
        )
    if (
        actor is not None
        and not actor.is_officer
        and (actor.organization_id != licence.organization_id or not actor.is_manager)
    ):
        raise ApplicationError(
            gettext("You cannot register agents here."), code="not_allowed", status_code=403
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


# --- licences ------------------------------------------------------------------------------------


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
        _end(mandate, Authorization.Status.REVOKED, actor, Authorization.Party.OFFICER, reason)
    OrganizationAPIKey.objects.filter(organization=licence.organization, revoked=False).update(revoked=True)
    licence.status = BrokerLicence.Status.REVOKED
    licence.status_reason = reason
    licence.status_changed_at = now
    licence.save(update_fields=["status", "status_reason", "status_changed_at"])
    _licence_event(licence, Action.LICENCE_REVOKED, actor, reason, mandates=len(mandates))
    _tell_parties_of_licence(licence, mandates, Notification.Kind.LICENCE_REVOKED)
    return licence


def _tell_parties_of_licence(licence: BrokerLicence, mandates: list, kind: str) -> None:
    people = set(_managers(licence.organization))
    for mandate in mandates:
        people.update(_managers(mandate.trader))
    for person in people:
        notification_send(user=person, kind=kind, broker=licence.organization.name, licence=licence.number)


def _managers(organization: Organization) -> list[User]:
    return list(User.objects.filter(organization=organization, role__in=User.MANAGER_ROLES, is_active=True))


@transaction.atomic
def agent_leave(*, agent: AgentStaff, left_on: datetime.date, actor: User) -> AgentStaff:
    """An agent leaves the broker: from ``left_on`` they can no longer sign, and their API keys are
    revoked now. By the broker's owner or an administrator, or an officer."""
    if not actor.is_officer and (
        actor.organization_id != agent.licence.organization_id or not actor.is_manager
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


# --- mandates ------------------------------------------------------------------------------------

INVITATION_DAYS = 21
INVITATION_REMINDER_DAYS = 5


def _party_of(actor: User, mandate_or_parties) -> str:
    """Which side ``actor`` speaks for: the trader's or the broker's managers, or an officer.
    Anyone else gets ``not_found`` (another organisation's mandate does not exist for them)."""
    trader_id, broker_id = mandate_or_parties
    if actor.is_officer:
        return Authorization.Party.OFFICER
    if actor.is_manager and actor.organization_id == trader_id:
        return Authorization.Party.TRADER
    if actor.is_manager and actor.organization_id == broker_id:
        return Authorization.Party.BROKER
    if actor.organization_id in (trader_id, broker_id):
        raise ApplicationError(
            gettext("Only the owner or an administrator can manage mandates."),
            code="not_allowed",
            status_code=403,
        )
    raise ApplicationError(gettext("No such mandate."), code="not_found", status_code=404)


def _scopes_of(scopes: list[str]) -> dict[str, bool]:
    chosen = set(scopes or [])
    if not chosen or chosen - set(Authorization.Scope.values):
        raise ApplicationError(
            gettext("Choose at least one of: import, export, transit."),
            code="invalid_scope",
            fields={"scopes": ["invalid"]},
        )
    return {f"scope_{scope}": scope in chosen for scope in Authorization.Scope.values}


def _check_window(valid_from: datetime.date, valid_until: datetime.date) -> None:
    if valid_until < valid_from:
        raise ApplicationError(
            gettext("The mandate must end after it starts."),
            code="invalid_window",
            fields={"valid_until": ["before valid_from"]},
        )
    if valid_until < timezone.localdate():
        raise ApplicationError(
            gettext("The mandate would already be over."),
            code="invalid_window",
            fields={"valid_until": ["past"]},
        )


def _check_overlap(trader, broker, scopes: dict[str, bool], valid_from, valid_until, exclude=None) -> None:
    # An active or pending mandate of the same parties already covering one of these kinds on one
    # of these days would make "which mandate was used" ambiguous.
    live = Authorization.objects.filter(
        trader=trader, broker=broker, status__in=Authorization.LIVE_STATUSES,
        valid_from__lte=valid_until, valid_until__gte=valid_from,
    )  # fmt: skip
    if exclude is not None:
        live = live.exclude(pk=exclude.pk)
    for field, chosen in scopes.items():
        if chosen and live.filter(**{field: True}).exists():
            raise ApplicationError(
                gettext("A mandate for these parties already covers part of this period and scope."),
                code="authorization_overlap",
            )


def _check_broker(broker: Organization) -> BrokerLicence:
    licence = BrokerLicence.objects.filter(organization=broker).first()
    if (
        broker.kind != Organization.Kind.BROKER
        or licence is None
        or licence.status != BrokerLicence.Status.ACTIVE
    ):
        raise ApplicationError(
            gettext("This broker has no active customs brokerage licence."), code="broker_licence_inactive"
        )
    return licence


def _check_trader(trader: Organization) -> None:
    if trader.kind != Organization.Kind.TRADER:
        raise ApplicationError(gettext("Mandates are given by traders."), code="not_a_trader")
    if trader.status != Organization.Status.ACTIVE:
        raise ApplicationError(
            gettext("The enterprise must be verified (bind its certificate) before it can give mandates."),
            code="organization_not_verified",
        )


def _create_mandate(*, trader, broker, actor, initiated_by, scopes, representation, contract_number,
                    valid_from, valid_until, grantor_name, grantor_title) -> Authorization:  # fmt: skip
    if representation not in Authorization.Representation.values:
        raise ApplicationError(
            gettext("Representation is direct or indirect."),
            code="invalid_input",
            fields={"representation": ["invalid"]},
        )
    scope_fields = _scopes_of(scopes)
    _check_window(valid_from, valid_until)
    _check_trader(trader)
    _check_broker(broker)
    _check_overlap(trader, broker, scope_fields, valid_from, valid_until)
    mandate = Authorization(
        trader=trader,
        broker=broker,
        representation=representation,
        contract_number=contract_number.strip()[:64],
        valid_from=valid_from,
        valid_until=valid_until,
        grantor_name=grantor_name.strip()[:150],
        grantor_title=grantor_title.strip()[:150],
        initiated_by=initiated_by,
        invited_by=actor,
        invitation_expires_at=timezone.now() + datetime.timedelta(days=INVITATION_DAYS),
        **scope_fields,
    )
    try:
        with transaction.atomic():
            mandate.save()
    except IntegrityError:
        # The partial unique constraint: a concurrent invitation for the same parties and scope won.
        raise ApplicationError(
            gettext("A pending invitation for these parties and scope already exists."),
            code="authorization_pending",
        ) from None
    by_trader = initiated_by == Authorization.Party.TRADER
    audit_event_record(
        action=Action.AUTHORIZATION_GRANTED if by_trader else Action.AUTHORIZATION_INVITED,
        actor=actor,
        organization=trader,
        target=mandate,
        data={
            "trader": trader.tax_code, "broker": broker.tax_code, "scopes": mandate.scopes,
            "representation": representation, "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(), "initiated_by": initiated_by,
        },
    )  # fmt: skip
    other_side = broker if initiated_by == Authorization.Party.TRADER else trader
    for person in _managers(other_side):
        notification_send(
            user=person,
            kind=Notification.Kind.MANDATE_INVITED,
            party=(trader if other_side is broker else broker).name,
            scopes=", ".join(mandate.scopes),
        )
    return mandate


@transaction.atomic
def authorization_grant(*, actor: User, broker: Organization, scopes: list[str], representation: str,
                        contract_number: str, valid_from: datetime.date, valid_until: datetime.date,
                        grantor_name: str = "", grantor_title: str = "") -> Authorization:  # fmt: skip
    """The trader's owner or an administrator offers a mandate to a licensed broker, who accepts it.
    Raises ``ApplicationError``: ``not_allowed``, ``organization_not_verified``,
    ``broker_licence_inactive``, ``invalid_scope``, ``invalid_window``, ``authorization_overlap``,
    ``authorization_pending``. Records ``authorization.granted``; the broker's managers are told."""
    trader = actor.organization
    if trader is None or not actor.is_manager or trader.kind != Organization.Kind.TRADER:
        raise ApplicationError(
            gettext("Only a trader's owner or an administrator can grant a mandate."),
            code="not_allowed",
            status_code=403,
        )
    return _create_mandate(
        trader=trader, broker=broker, actor=actor, initiated_by=Authorization.Party.TRADER, scopes=scopes,
        representation=representation, contract_number=contract_number, valid_from=valid_from,
        valid_until=valid_until, grantor_name=grantor_name, grantor_title=grantor_title,
    )  # fmt: skip


@transaction.atomic
def authorization_invite(*, actor: User, trader_tax_code: str, trader_registered_on: datetime.date,
                         scopes: list[str], representation: str, contract_number: str,
                         valid_from: datetime.date, valid_until: datetime.date) -> Authorization:  # fmt: skip
    """A licensed broker's owner or an administrator proposes a mandate to a trader, naming its tax
    code and one fact only the trader's people would know: the date it registered. Raises
    ``invalid_tax_code``, ``trader_not_found`` or ``known_fact_mismatch`` besides the checks of
    ``authorization_grant``. Records ``authorization.invited``; the trader's managers are told."""
    broker = actor.organization
    if broker is None or not actor.is_manager or broker.kind != Organization.Kind.BROKER:
        raise ApplicationError(
            gettext("Only a broker's owner or an administrator can propose a mandate."),
            code="not_allowed",
            status_code=403,
        )
    try:
        tax_code = normalize_tax_code(trader_tax_code)
    except ValidationError:
        raise ApplicationError(
            gettext("This is not a valid tax code."),
            code="invalid_tax_code",
            fields={"trader_tax_code": ["invalid"]},
        ) from None
    trader = Organization.objects.filter(tax_code=tax_code, kind=Organization.Kind.TRADER).first()
    if trader is None:
        raise ApplicationError(
            gettext("No enterprise with this tax code is registered."), code="trader_not_found"
        )
    if timezone.localdate(trader.created_at) != trader_registered_on:
        raise ApplicationError(
            gettext("The registration date does not match this enterprise."), code="known_fact_mismatch"
        )
    return _create_mandate(
        trader=trader, broker=broker, actor=actor, initiated_by=Authorization.Party.BROKER, scopes=scopes,
        representation=representation, contract_number=contract_number, valid_from=valid_from,
        valid_until=valid_until, grantor_name="", grantor_title="",
    )  # fmt: skip


def _locked_mandate(mandate: Authorization) -> Authorization:
    return Authorization.objects.select_for_update().select_related("trader", "broker").get(pk=mandate.pk)


def _tell_both(mandate: Authorization) -> None:
    for person in {*_managers(mandate.trader), *_managers(mandate.broker)}:
        notification_send(
            user=person,
            kind=Notification.Kind.MANDATE_CHANGED,
            trader=mandate.trader.name,
            broker=mandate.broker.name,
            status=mandate.status,
        )


def _end(mandate, status, actor, party, reason="") -> Authorization:
    mandate.status = status
    mandate.ended_by = actor
    mandate.ended_by_party = party
    mandate.ended_at = timezone.now()
    mandate.end_reason = (reason or "")[:500]
    mandate.save(update_fields=["status", "ended_by", "ended_by_party", "ended_at", "end_reason"])
    action = {
        Authorization.Status.DECLINED: Action.AUTHORIZATION_DECLINED,
        Authorization.Status.CANCELLED: Action.AUTHORIZATION_CANCELLED,
        Authorization.Status.REVOKED: Action.AUTHORIZATION_REVOKED,
        Authorization.Status.EXPIRED: Action.AUTHORIZATION_EXPIRED,
    }[status]
    audit_event_record(
        action=action,
        actor=actor,
        organization=mandate.trader,
        target=mandate,
        data={"by": party, "reason": mandate.end_reason},
    )
    _tell_both(mandate)
    return mandate


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_transition", status_code=409)


@transaction.atomic
def authorization_accept(*, mandate: Authorization, actor: User) -> Authorization:
    """The side that did not propose it accepts a pending mandate; the broker's licence must still be
    active and the invitation unexpired. Records ``authorization.accepted``."""
    party = _party_of(actor, (mandate.trader_id, mandate.broker_id))
    mandate = _locked_mandate(mandate)
    if mandate.status != Authorization.Status.INVITED:
        raise _forbidden(gettext("Only a pending mandate can be accepted."))
    if party == Authorization.Party.OFFICER or party == mandate.initiated_by:
        raise ApplicationError(
            gettext("The other party accepts a mandate, not the one who proposed it."),
            code="not_allowed",
            status_code=403,
        )
    if mandate.invitation_expires_at <= timezone.now():
        raise _forbidden(gettext("This invitation has expired."))
    _check_broker(mandate.broker)
    _check_trader(mandate.trader)
    mandate.status = Authorization.Status.ACTIVE
    mandate.responded_by = actor
    mandate.responded_at = timezone.now()
    if party == Authorization.Party.TRADER and not mandate.grantor_name:
        mandate.grantor_name = actor.get_full_name()[:150]
        mandate.grantor_title = actor.job_title[:150]
    mandate.save(update_fields=["status", "responded_by", "responded_at", "grantor_name", "grantor_title"])
    audit_event_record(
        action=Action.AUTHORIZATION_ACCEPTED, actor=actor, organization=mandate.trader, target=mandate,
        data={"by": party},
    )  # fmt: skip
    _tell_both(mandate)
    return mandate


@transaction.atomic
def authorization_decline(*, mandate: Authorization, actor: User, reason: str = "") -> Authorization:
    party = _party_of(actor, (mandate.trader_id, mandate.broker_id))
    mandate = _locked_mandate(mandate)
    if mandate.status != Authorization.Status.INVITED:
        raise _forbidden(gettext("Only a pending mandate can be declined."))
    if party == Authorization.Party.OFFICER or party == mandate.initiated_by:
        raise ApplicationError(
            gettext("The proposing party cancels its invitation instead."),
            code="not_allowed",
            status_code=403,
        )
    return _end(mandate, Authorization.Status.DECLINED, actor, party, reason)


@transaction.atomic
def authorization_cancel(*, mandate: Authorization, actor: User) -> Authorization:
    party = _party_of(actor, (mandate.trader_id, mandate.broker_id))
    mandate = _locked_mandate(mandate)
    if mandate.status != Authorization.Status.INVITED:
        raise _forbidden(gettext("Only a pending invitation can be cancelled."))
    if party != mandate.initiated_by:
        raise ApplicationError(
            gettext("Only the party that proposed it can cancel an invitation."),
            code="not_allowed",
            status_code=403,
        )
    return _end(mandate, Authorization.Status.CANCELLED, actor, party)


@transaction.atomic
def authorization_revoke(*, mandate: Authorization, actor: User, reason: str = "") -> Authorization:
    """Either party or an officer ends an active (or licence-suspended) mandate; who ended it is
    recorded. Revocation is final."""
    party = _party_of(actor, (mandate.trader_id, mandate.broker_id))
    mandate = _locked_mandate(mandate)
    if mandate.status not in (Authorization.Status.ACTIVE, Authorization.Status.SUSPENDED):
        raise _forbidden(gettext("Only an active or suspended mandate can be revoked."))
    return _end(mandate, Authorization.Status.REVOKED, actor, party, reason)


@transaction.atomic
def authorization_change_start(
    *, mandate: Authorization, actor: User, valid_from: datetime.date
) -> Authorization:
    """Move the start of a mandate, only while that start is still in the future (and not into the past)."""
    party = _party_of(actor, (mandate.trader_id, mandate.broker_id))
    mandate = _locked_mandate(mandate)
    today = timezone.localdate()
    if party == Authorization.Party.OFFICER or mandate.status not in Authorization.LIVE_STATUSES:
        raise _forbidden(gettext("This mandate's dates can no longer change."))
    if mandate.valid_from <= today or valid_from < today:
        raise _forbidden(gettext("The start can be changed only while it is in the future."))
    _check_window(valid_from, mandate.valid_until)
    scopes = {f"scope_{scope}": getattr(mandate, f"scope_{scope}") for scope in Authorization.Scope.values}
    _check_overlap(mandate.trader, mandate.broker, scopes, valid_from, mandate.valid_until, exclude=mandate)
    previous = mandate.valid_from
    mandate.valid_from = valid_from
    mandate.save(update_fields=["valid_from"])
    audit_event_record(
        action=Action.AUTHORIZATION_CHANGED, actor=actor, organization=mandate.trader, target=mandate,
        data={"valid_from": [previous.isoformat(), valid_from.isoformat()]},
    )  # fmt: skip
    _tell_both(mandate)
    return mandate


def authorizations_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Daily: invitations expire 21 days after they were sent (with a reminder 5 days before), and
    active mandates past their last day expire. Idempotent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"reminded": 0, "invitations_expired": 0, "mandates_expired": 0}
    remind_before = now + datetime.timedelta(days=INVITATION_REMINDER_DAYS)
    for pk in list(
        Authorization.objects.filter(
            status=Authorization.Status.INVITED, reminder_sent_at__isnull=True,
            invitation_expires_at__lte=remind_before, invitation_expires_at__gt=now,
        ).values_list("pk", flat=True)
    ):  # fmt: skip
        with transaction.atomic():
            if not Authorization.objects.filter(pk=pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now
            ):
                continue
            mandate = Authorization.objects.select_related("trader", "broker").get(pk=pk)
            answering = (
                mandate.broker if mandate.initiated_by == Authorization.Party.TRADER else mandate.trader
            )
            proposing = mandate.trader if answering is mandate.broker else mandate.broker
            for person in _managers(answering):
                notification_send(
                    user=person, kind=Notification.Kind.MANDATE_EXPIRING, party=proposing.name,
                    date=f"{timezone.localtime(mandate.invitation_expires_at):%Y-%m-%d}",
                )  # fmt: skip
            counts["reminded"] += 1
    due = Authorization.objects.filter(
        Q(status=Authorization.Status.INVITED, invitation_expires_at__lte=now)
        | Q(status__in=[Authorization.Status.ACTIVE, Authorization.Status.SUSPENDED], valid_until__lt=today)
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            mandate = _locked_mandate(Authorization(pk=pk))
            if mandate.status == Authorization.Status.INVITED and mandate.invitation_expires_at <= now:
                counts["invitations_expired"] += 1
            elif mandate.status in (Authorization.Status.ACTIVE, Authorization.Status.SUSPENDED) and (
                mandate.valid_until < today
            ):
                counts["mandates_expired"] += 1
            else:
                continue
            _end(mandate, Authorization.Status.EXPIRED, None, Authorization.Party.SYSTEM)
    return counts


# --- API keys -------------------------------------------------------------------------------------

API_KEY_MAX_DAYS = 366


@transaction.atomic
def api_key_create(
    *, actor: User, holder: User, name: str, scopes: list[str], expires_in_days: int = 90
) -> tuple[OrganizationAPIKey, str]:
    """A key for ``holder`` (a member of the actor's organisation), made by its owner or an
    administrator, or by the holder for themselves. The key itself is returned once and only its
    hash is kept. Records ``api_key.created`` (with the prefix, never the key)."""
    if actor.organization_id is None or holder.organization_id != actor.organization_id:
        raise ApplicationError(
            gettext("No such person in your organisation."), code="not_found", status_code=404
        )
    if holder.pk != actor.pk and not actor.is_manager:
        raise ApplicationError(
            gettext("Only the owner or an administrator makes keys for others."),
            code="not_allowed",
            status_code=403,
        )
    if not holder.is_active or holder.suspended_at is not None:
        raise ApplicationError(gettext("This account is not active."), code="not_allowed", status_code=403)
    chosen = sorted(set(scopes or []))
    if not chosen or set(chosen) - set(OrganizationAPIKey.Scope.values):
        raise ApplicationError(
            gettext("Choose the key's scopes among read, declare and manage."),
            code="invalid_scope",
            fields={"scopes": ["invalid"]},
        )
    if not 1 <= expires_in_days <= API_KEY_MAX_DAYS:
        raise ApplicationError(
            gettext("A key lives from 1 to 366 days."),
            code="invalid_expiry",
            fields={"expires_in_days": ["range"]},
        )
    if not name.strip():
        raise ApplicationError(gettext("Name the key."), code="invalid_input", fields={"name": ["required"]})
    key, secret = OrganizationAPIKey.objects.create_key(
        name=name.strip()[:50],
        organization=actor.organization,
        user=holder,
        scopes=chosen,
        created_by=actor,
        expiry_date=timezone.now() + datetime.timedelta(days=expires_in_days),
    )
    audit_event_record(
        action=Action.API_KEY_CREATED,
        actor=actor,
        organization=actor.organization,
        target=key,
        data={"prefix": key.prefix, "holder": str(holder.pk), "scopes": chosen, "days": expires_in_days},
    )
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: OrganizationAPIKey, actor: User) -> OrganizationAPIKey:
    if key.organization_id != actor.organization_id:
        raise ApplicationError(gettext("No such key."), code="not_found", status_code=404)
    if key.user_id != actor.pk and not actor.is_manager:
        raise ApplicationError(gettext("You cannot revoke this key."), code="not_allowed", status_code=403)
    key = OrganizationAPIKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked:
        return key
    key.revoked = True
    key.save(update_fields=["revoked"])
    audit_event_record(
        action=Action.API_KEY_REVOKED, actor=actor, organization=key.organization, target=key,
        data={"prefix": key.prefix},
    )  # fmt: skip
    return key


def api_key_used(*, key: OrganizationAPIKey, ip: str | None, network: str) -> None:
    """Remember where a key was last used; its first use from a network on a given day is an
    ``api`` sign-in event, for the risk engine (DESIGN §9)."""
    now = timezone.now()
    same_place = key.last_used_network == network and key.last_used_at is not None
    first_today_here = not (same_place and timezone.localdate(key.last_used_at) == timezone.localdate(now))
    # "Last used" to the minute: a busy key does not write its row on every call.
    if first_today_here or not same_place or now - key.last_used_at >= datetime.timedelta(minutes=1):
        OrganizationAPIKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_network=network)
    if first_today_here:
        from accounts.services import signin_record

        signin_record(
            user=key.user, username=key.user.username, succeeded=True, device_id=f"api-key:{key.prefix}"
        )


# --- operations reports ---------------------------------------------------------------------------

# Only a broker holding a licence reports; a suspended one keeps reporting (it is how it recovers).
REPORTING_LICENCE_STATUSES = (BrokerLicence.Status.ACTIVE, BrokerLicence.Status.SUSPENDED)
MISSED_REPORTS_IN_A_ROW = 3
REVOCATION_AFTER_SUSPENDED_MONTHS = 6
# Far above any brokerage's volume, and below every database's integer ceiling (no 500 on overflow).
REPORT_FIGURE_MAX = 1_000_000_000


def _months_per_report_period() -> int:
    return 3 if settings.BROKER_REPORT_PERIOD == "quarter" else 1


def _month_number(day: datetime.date) -> int:
    """Months counted from January of year 0, so that period arithmetic is integer arithmetic."""
    return day.year * 12 + day.month - 1


def _month_start(number: int) -> datetime.date:
    return datetime.date(number // 12, number % 12 + 1, 1)


def _report_period_number(day: datetime.date) -> int:
    """Consecutive periods have consecutive numbers."""
    return _month_number(day) // _months_per_report_period()


def _report_period_numbered(number: int) -> ReportPeriod:
    months = _months_per_report_period()
    following = _month_start((number + 1) * months)
    return ReportPeriod(_month_start(number * months), following - datetime.timedelta(days=1))


def report_period_containing(day: datetime.date) -> ReportPeriod:
    """The quarter (or month, with ``BROKER_REPORT_PERIOD=month``) that ``day`` falls in."""
    return _report_period_numbered(_report_period_number(day))


def report_period_due_on(period: ReportPeriod) -> datetime.date:
    """The last day to file on time: ``BROKER_REPORT_GRACE_DAYS`` after the period's last day."""
    return period.end + datetime.timedelta(days=settings.BROKER_REPORT_GRACE_DAYS)


def report_periods(*, issued_on: datetime.date, ended_by: datetime.date) -> list[ReportPeriod]:
    """A licence's periods, oldest first: from the one containing ``issued_on`` to the last one
    whose final day is on or before ``ended_by``."""
    first = _report_period_number(issued_on)
    last = _report_period_number(ended_by)
    if _report_period_numbered(last).end > ended_by:
        last -= 1
    return [_report_period_numbered(number) for number in range(first, last + 1)]


def _last_day_past_due(today: datetime.date) -> datetime.date:
    # A period is past due once its due date is behind us: it ended on or before this day.
    return today - datetime.timedelta(days=settings.BROKER_REPORT_GRACE_DAYS + 1)


@dataclass(frozen=True)
class OpenReportPeriod:
    """A period that has ended and still awaits its report: ``due`` until its due date, ``missing``
    (whether or not the sweep has recorded it yet) after."""

    period: ReportPeriod
    due_on: datetime.date
    status: str


def operation_report_periods_open(
    *, licence: BrokerLicence, today: datetime.date | None = None
) -> list[OpenReportPeriod]:
    """The periods the licence's broker can still file, newest first (empty for a revoked licence)."""
    if licence.status not in REPORTING_LICENCE_STATUSES:
        return []
    today = today or timezone.localdate()
    filed = set(
        OperationReport.objects.filter(broker_id=licence.organization_id)
        .exclude(status=OperationReport.Status.MISSING)
        .values_list("period_start", flat=True)
    )
    open_periods = []
    for period in report_periods(issued_on=licence.issued_on, ended_by=today - datetime.timedelta(days=1)):
        if period.start in filed:
            continue
        due_on = report_period_due_on(period)
        status = "due" if today <= due_on else "missing"
        open_periods.append(OpenReportPeriod(period, due_on, status))
    return open_periods[::-1]


def _report_figures_checked(figures: dict[str, int], notes: str) -> str:
    """Every offending field at once, under the code of the first; returns the notes to keep."""
    errors: dict[str, list[str]] = {}
    codes = []
    for name, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name], code = ["invalid"], "invalid_input"
        elif value < 0:
            errors[name], code = ["negative"], "figure_negative"
        elif value > REPORT_FIGURE_MAX:
            errors[name], code = ["too_large"], "figure_too_large"
        else:
            continue
        codes.append(code)
    notes = (notes or "").strip()
    if "\x00" in notes:
        errors["notes"] = ["invalid"]
        codes.append("invalid_input")
    elif len(notes) > OperationReport.NOTES_MAX_LENGTH:
        errors["notes"] = ["too_long"]
        codes.append("notes_too_long")
    if errors:
        raise ApplicationError(
            gettext("Figures are whole numbers from 0 to %(max)s, and notes at most %(length)s characters.")
            % {"max": REPORT_FIGURE_MAX, "length": OperationReport.NOTES_MAX_LENGTH},
            code=codes[0],
            fields=errors,
        )
    return notes


def _report_period_checked(period_start: datetime.date, licence: BrokerLicence, today) -> ReportPeriod:
    period = report_period_containing(period_start)
    if period.start != period_start or period.end < report_period_containing(licence.issued_on).start:
        raise ApplicationError(
            gettext("Give the first day of a reporting period of your licence, such as %(example)s.")
            % {"example": report_period_containing(licence.issued_on).start.isoformat()},
            code="invalid_period",
            fields={"period_start": ["invalid"]},
        )
    if period.end >= today:
        raise ApplicationError(
            gettext("This period has not ended yet; its report can be filed from %(date)s.")
            % {"date": (period.end + datetime.timedelta(days=1)).isoformat()},
            code="period_not_ended",
            fields={"period_start": ["not_ended"]},
        )
    return period


def _report_exists(period: ReportPeriod) -> ApplicationError:
    return ApplicationError(
        gettext("The report for %(period)s was already filed.") % {"period": period.label},
        code="report_exists",
    )


@transaction.atomic
def operation_report_submit(
    *,
    actor: User,
    period_start: datetime.date,
    declarations_filed: int,
    clients_served: int,
    staff_joined: int = 0,
    staff_left: int = 0,
    notes: str = "",
) -> OperationReport:
    """The broker's owner or an administrator files the operations report of a period that has
    ended (its licence active or suspended). Filed after the due date it is accepted as ``late``,
    filling in the ``missing`` row if the sweep already made one; earlier periods past due are
    first recorded missing, so a late report completes a streak as the sweep would. Records
    ``report.submitted`` (and whatever the escalation of a streak records).

    Errors, each changing nothing: ``not_allowed`` (403), ``figure_negative``,
    ``figure_too_large``, ``notes_too_long``, ``invalid_input``, ``broker_licence_inactive``,
    ``invalid_period`` (not the first day of a period of the licence), ``period_not_ended``
    (a current or future period), ``report_exists``.
    """
    broker = actor.organization
    if broker is None or not broker.is_broker or not actor.is_manager:
        raise ApplicationError(
            gettext("Only a broker's owner or an administrator files operations reports."),
            code="not_allowed",
            status_code=403,
        )
    figures = {
        "declarations_filed": declarations_filed,
        "clients_served": clients_served,
        "staff_joined": staff_joined,
        "staff_left": staff_left,
    }
    notes = _report_figures_checked(figures, notes)
    # The licence row lock serialises this broker's submissions with each other and with the sweep.
    licence = (
        BrokerLicence.objects.select_for_update()
        .filter(organization=broker, status__in=REPORTING_LICENCE_STATUSES)
        .first()
    )
    if licence is None:
        raise ApplicationError(
            gettext("Only a broker with a licence (active or suspended) files operations reports."),
            code="broker_licence_inactive",
        )
    now = timezone.now()
    today = timezone.localdate(now)
    period = _report_period_checked(period_start, licence, today)
    report = OperationReport.objects.filter(broker=broker, period_start=period.start).first()
    if report is not None and report.status != OperationReport.Status.MISSING:
        raise _report_exists(period)
    newly_late = False
    if report is None:
        due_on = report_period_due_on(period)
        newly_late = today > due_on
        if newly_late:
            _operation_reports_mark_missing(
                licence, ended_by=min(_last_day_past_due(today), period.start - datetime.timedelta(days=1))
            )
        report = OperationReport(
            broker=broker, period_start=period.start, period_end=period.end, due_on=due_on
        )
    report.status = OperationReport.Status.LATE if today > report.due_on else OperationReport.Status.SUBMITTED
    report.submitted_by = actor
    report.submitted_at = now
    report.notes = notes
    for name, value in figures.items():
        setattr(report, name, value)
    report.full_clean()
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:  # a concurrent submission won the race the lock cannot prevent on SQLite
        raise _report_exists(period) from None
    audit_event_record(
        action=Action.REPORT_SUBMITTED,
        actor=actor,
        organization=broker,
        target=report,
        data={
            "period": period.label,
            "period_start": period.start.isoformat(),
            "status": report.status,
            "due_on": report.due_on.isoformat(),
            **figures,
        },
    )
    if newly_late:
        _missed_reports_escalate(licence, report)
    return report


def _operation_reports_mark_missing(licence: BrokerLicence, *, ended_by: datetime.date) -> int:
    """Record as missing each of the licence's periods ended by ``ended_by`` that has no report, oldest
    first. The caller holds the licence's row lock."""
    broker = licence.organization
    recorded = list(OperationReport.objects.filter(broker=broker).values_list("period_start", "period_end"))
    now = timezone.now()
    marked = 0
    for period in report_periods(issued_on=licence.issued_on, ended_by=ended_by):
        # Overlap rather than equality: rows cut under another BROKER_REPORT_PERIOD still count.
        if any(start <= period.end and period.start <= end for start, end in recorded):
            continue
        report = OperationReport.objects.create(
            broker=broker,
            period_start=period.start,
            period_end=period.end,
            due_on=report_period_due_on(period),
            status=OperationReport.Status.MISSING,
            missed_at=now,
        )
        audit_event_record(
            action=Action.REPORT_MISSED,
            actor=None,
            organization=broker,
            target=report,
            data={"period": period.label, "period_start": period.start.isoformat(),
                  "due_on": report.due_on.isoformat()},
        )  # fmt: skip
        for person in _managers(broker):
            notification_send(
                user=person, kind=Notification.Kind.REPORT_DUE, period=period.label,
                date=report.due_on.isoformat(),
            )  # fmt: skip
        marked += 1
        _missed_reports_escalate(licence, report)
    return marked


def _missed_reports_escalate(licence: BrokerLicence, report: OperationReport) -> None:
    """Every third missing or late report in a row (3, 6, ...) raises ``missed_reports`` for officers
    and, with ``BROKER_AUTO_SUSPEND``, suspends an active licence. Called once per new late or
    missing row, so a streak is escalated once however often the sweep runs."""
    streak = operation_report_failed_streak(broker=licence.organization, upto=report.period_start)
    if streak == 0 or streak % MISSED_REPORTS_IN_A_ROW:
        return
    # An earlier streak in the same sweep may have suspended it meanwhile.
    licence.refresh_from_db(fields=["status"])
    suspend = settings.BROKER_AUTO_SUSPEND and licence.status == BrokerLicence.Status.ACTIVE
    periods = list(
        OperationReport.objects.filter(broker=licence.organization, period_start__lte=report.period_start)
        .order_by("-period_start")
        .values_list("period_start", "period_end")[:streak]
    )
    labels = [ReportPeriod(start, end).label for start, end in reversed(periods)]
    if suspend:
        outcome = "The licence was suspended automatically."
    elif licence.status == BrokerLicence.Status.ACTIVE:
        outcome = "Suspension of the licence is proposed."
    else:
        outcome = "The licence is already suspended."
    explanation = (
        f"{streak} operations reports in a row were missing or late ({', '.join(labels)}). {outcome}"
    )
    flag_raise(
        kind="missed_reports",
        severity=Flag.Severity.HIGH,
        organization=licence.organization,
        explanation=explanation,
        evidence={
            "licence": licence.number,
            "periods": labels,
            "licence_status": licence.status,
            "suspended_automatically": suspend,
        },
    )
    if suspend:
        licence_suspend(licence=licence, actor=None, reason=explanation)


def _licence_revocation_propose(licence: BrokerLicence) -> bool:
    """For a licence suspended six months: unless a report was filed since, revocation is proposed
    to officers, once per suspension."""
    broker = licence.organization
    if OperationReport.objects.filter(broker=broker, submitted_at__gte=licence.suspended_at).exists():
        return False
    if Flag.objects.filter(
        kind="licence_revocation_proposed", organization=broker, first_seen_at__gte=licence.suspended_at
    ).exists():
        return False
    flag_raise(
        kind="licence_revocation_proposed",
        severity=Flag.Severity.HIGH,
        organization=broker,
        explanation=(
            f"Licence {licence.number} has been suspended since "
            f"{timezone.localdate(licence.suspended_at):%Y-%m-%d} and no operations report was filed "
            "since. Revocation is proposed."
        ),
        evidence={"licence": licence.number, "suspended_at": licence.suspended_at.isoformat()},
    )
    return True


def _months_later(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or that month's last day (31 August + 6 months: end of February)."""
    number = _month_number(day) + months
    last_day = (_month_start(number + 1) - datetime.timedelta(days=1)).day
    return _month_start(number).replace(day=min(day.day, last_day))


def operation_reports_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Beat: each period past its due date without a report becomes ``missing`` (``report.missed``;
    the broker's managers get ``report_due``), every third missing or late report in a row raises
    ``missed_reports`` (and suspends the licence with ``BROKER_AUTO_SUSPEND``), and a licence
    suspended six months without a report since raises ``licence_revocation_proposed``.
    Idempotent: a period is recorded once (the unique row, under the licence's lock), so running it
    again changes nothing. One transaction per broker. Raises nothing of its own."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ended_by = _last_day_past_due(today)
    counts = {"missing": 0, "revocations_proposed": 0}
    # Only brokers with fewer rows than past-due periods have anything to do: one query for all.
    licences = (
        BrokerLicence.objects.filter(status__in=REPORTING_LICENCE_STATUSES)
        .annotate(
            recorded=Count(
                "organization__operation_reports",
                filter=Q(organization__operation_reports__period_end__lte=ended_by),
            )
        )
        .values_list("pk", "issued_on", "recorded")
    )
    for pk, issued_on, recorded in list(licences):
        if recorded >= len(report_periods(issued_on=issued_on, ended_by=ended_by)):
            continue
        with transaction.atomic():
            licence = BrokerLicence.objects.select_for_update().select_related("organization").get(pk=pk)
            if licence.status in REPORTING_LICENCE_STATUSES:
                counts["missing"] += _operation_reports_mark_missing(licence, ended_by=ended_by)
    suspended = BrokerLicence.objects.filter(
        status=BrokerLicence.Status.SUSPENDED, suspended_at__isnull=False
    )
    for pk, suspended_at in list(suspended.values_list("pk", "suspended_at")):
        if today < _months_later(timezone.localdate(suspended_at), REVOCATION_AFTER_SUSPENDED_MONTHS):
            continue
        with transaction.atomic():
            licence = BrokerLicence.objects.select_for_update().select_related("organization").get(pk=pk)
            if licence.status == BrokerLicence.Status.SUSPENDED and _licence_revocation_propose(licence):
                counts["revocations_proposed"] += 1
    return counts
