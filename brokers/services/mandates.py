"""Mandates (authorizations) between a trader and a licensed broker: offered by either side,
accepted, declined, cancelled, revoked, moved and expired (DESIGN §4)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, Organization, User
from accounts.services.notifications import notification_send
from accounts.services.permissions import require_trader_manager
from accounts.validators import normalize_tax_code
from audit.models import Action
from audit.services.events import audit_event_record
from brokers.models import Authorization, BrokerLicence
from brokers.selectors import manager_list
from brokers.services.mandate_codes import mandate_code_redeem
from core.errors import ApplicationError
from core.limits import SlidingLimit
from core.text import source_text

INVITATION_DAYS = 21
INVITATION_REMINDER_DAYS = 5

UNMATCHED_PROPOSALS = SlidingLimit("unmatched-proposals", lambda: settings.KNOWN_FACT_FAILURES_PER_MINUTE)


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
    for person in manager_list(organization=other_side):
        notification_send(
            user=person,
            kind=Notification.Kind.MANDATE_INVITED,
            party=(trader if other_side is broker else broker).name,
            scopes=[source_text(Authorization.Scope(scope).label) for scope in mandate.scopes],
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
    trader = require_trader_manager(
        actor, gettext("Only a trader's owner or an administrator can grant a mandate.")
    )
    return _create_mandate(
        trader=trader, broker=broker, actor=actor, initiated_by=Authorization.Party.TRADER, scopes=scopes,
        representation=representation, contract_number=contract_number, valid_from=valid_from,
        valid_until=valid_until, grantor_name=grantor_name, grantor_title=grantor_title,
    )  # fmt: skip


@transaction.atomic
def authorization_invite(*, actor: User, trader_tax_code: str, scopes: list[str], representation: str,
                         contract_number: str, valid_from: datetime.date, valid_until: datetime.date,
                         trader_registered_on: datetime.date | None = None,
                         authorization_code: str = "") -> Authorization:  # fmt: skip
    """A licensed broker's owner or an administrator proposes a mandate to a trader, naming its tax
    code and one fact only the trader's people would know: the date it registered, or a one-time
    authorisation code the trader issued (brokers.services.mandate_codes), which this uses up.
    Raises ``invalid_input`` (neither or both), ``invalid_tax_code``, ``known_fact_mismatch`` (an
    unknown trader, a wrong date or code alike) or, past ``KNOWN_FACT_FAILURES_PER_MINUTE`` of
    those, ``too_many_attempts`` besides the checks of ``authorization_grant``. Records
    ``authorization.invited``; the trader's managers are told."""
    broker = actor.organization
    if broker is None or not actor.is_manager or broker.kind != Organization.Kind.BROKER:
        raise ApplicationError(
            gettext("Only a broker's owner or an administrator can propose a mandate."),
            code="not_allowed",
            status_code=403,
        )
    authorization_code = (authorization_code or "").strip()
    if (trader_registered_on is None) == (not authorization_code):
        raise ApplicationError(
            gettext("Give either the trader's registration date or its authorisation code."),
            code="invalid_input",
            fields={"trader_registered_on": ["required"], "authorization_code": ["required"]},
        )
    try:
        tax_code = normalize_tax_code(trader_tax_code)
    except ValidationError:
        raise ApplicationError(
            gettext("This is not a valid tax code."),
            code="invalid_tax_code",
            fields={"trader_tax_code": ["invalid"]},
        ) from None
    # One refusal for an unknown trader and a wrong date, and only a few a minute: a broker must not
    # learn which enterprises are registered by trying tax codes.
    wait = UNMATCHED_PROPOSALS.wait(f"organization:{broker.pk}")
    if wait is not None:
        raise ApplicationError(
            gettext("Too many proposals matched no registered trader. Try again in %(seconds)d seconds.")
            % {"seconds": wait},
            code="too_many_attempts",
            status_code=429,
        )
    trader = Organization.objects.filter(tax_code=tax_code, kind=Organization.Kind.TRADER).first()
    if trader is None:
        matched = False
    elif authorization_code:
        matched = mandate_code_redeem(trader=trader, code=authorization_code, broker=broker)
    else:
        matched = timezone.localdate(trader.created_at) == trader_registered_on
    if not matched:
        UNMATCHED_PROPOSALS.count(f"organization:{broker.pk}")
        fact = "authorization_code" if authorization_code else "trader_registered_on"
        raise ApplicationError(
            gettext("No registered trader has this tax code and registration date or code."),
            code="known_fact_mismatch",
            fields={"trader_tax_code": ["known_fact_mismatch"], fact: ["known_fact_mismatch"]},
        )
    return _create_mandate(
        trader=trader, broker=broker, actor=actor, initiated_by=Authorization.Party.BROKER, scopes=scopes,
        representation=representation, contract_number=contract_number, valid_from=valid_from,
        valid_until=valid_until, grantor_name="", grantor_title="",
    )  # fmt: skip


def _locked_mandate(mandate: Authorization) -> Authorization:
    return Authorization.objects.select_for_update().select_related("trader", "broker").get(pk=mandate.pk)


def _tell_both(mandate: Authorization) -> None:
    for person in {*manager_list(organization=mandate.trader), *manager_list(organization=mandate.broker)}:
        notification_send(
            user=person,
            kind=Notification.Kind.MANDATE_CHANGED,
            trader=mandate.trader.name,
            broker=mandate.broker.name,
            status=source_text(Authorization.Status(mandate.status).label),
        )


def authorization_end(
    *, mandate: Authorization, status: str, actor: User | None, party: str, reason: str = ""
) -> Authorization:
    """End a mandate the caller has locked and found in a state it may leave: ``declined``,
    ``cancelled``, ``revoked`` or ``expired``, by ``party``. Records the matching
    ``authorization.*`` event and tells both sides' managers. Checks nothing itself: its callers
    (the transitions here, the sweep and ``licence_revoke``) lock the row and decide who may end what."""
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
    return authorization_end(
        mandate=mandate, status=Authorization.Status.DECLINED, actor=actor, party=party, reason=reason
    )


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
    return authorization_end(mandate=mandate, status=Authorization.Status.CANCELLED, actor=actor, party=party)


@transaction.atomic
def authorization_revoke(*, mandate: Authorization, actor: User, reason: str = "") -> Authorization:
    """Either party or an officer ends an active (or licence-suspended) mandate; who ended it is
    recorded. Revocation is final."""
    party = _party_of(actor, (mandate.trader_id, mandate.broker_id))
    mandate = _locked_mandate(mandate)
    if mandate.status not in (Authorization.Status.ACTIVE, Authorization.Status.SUSPENDED):
        raise _forbidden(gettext("Only an active or suspended mandate can be revoked."))
    return authorization_end(
        mandate=mandate, status=Authorization.Status.REVOKED, actor=actor, party=party, reason=reason
    )


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
            for person in manager_list(organization=answering):
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
            authorization_end(
                mandate=mandate,
                status=Authorization.Status.EXPIRED,
                actor=None,
                party=Authorization.Party.SYSTEM,
            )
    return counts
