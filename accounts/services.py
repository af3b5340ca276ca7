"""Writes for organisations and their people. Every function is one use case, atomic."""

from __future__ import annotations

import datetime
import functools
import hashlib
import ipaddress
import logging
import zoneinfo
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Model, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import selectors
from accounts.breach_corpus import is_breached
from accounts.models import (
    KnownPlace,
    Lockout,
    Notification,
    Organization,
    PasswordHistory,
    RecoveryCode,
    RecoveryCodeDevice,
    SignInEvent,
    SignInReview,
    StaffInvitation,
    User,
    UserSession,
)
from accounts.tokens import email_verification_read, email_verification_token
from accounts.validators import normalize_tax_code
from audit.models import Action, Flag
from audit.services.events import audit_event_record, audit_events_record
from audit.services.flags import Sighting, flag_raise, flags_raise
from core.bulk import bulk_insert_rows, bulk_insert_values, bulk_update_rows
from core.context import current_context, normalise_ip
from core.errors import ApplicationError
from core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


@transaction.atomic
def organization_create(
    *,
    kind: str,
    tax_code: str,
    name: str,
    actor: User | None,
    status: str = Organization.Status.PENDING_VERIFICATION,
    **details: str,
) -> Organization:
    """Create an enterprise; the tax code is validated and stored in canonical form.

    Records ``organization.created``. Raises ``ValidationError`` (code ``invalid_tax_code``, or
    ``unique`` for a duplicate).
    """
    organization = Organization(
        kind=kind, tax_code=normalize_tax_code(tax_code), name=name, status=status, **details
    )
    if status == Organization.Status.ACTIVE:
        organization.verified_at = timezone.now()
    organization.full_clean()
    organization.save()
    audit_event_record(
        action=Action.ORGANIZATION_CREATED,
        actor=actor,
        organization=organization,
        target=organization,
        data={"kind": organization.kind, "tax_code": organization.tax_code, "status": organization.status},
    )
    return organization


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str,
    role: str,
    organization: Organization | None,
    actor: User | None,
    password: str | None = None,
    **details,
) -> User:
    """Create an account: a member of ``organization`` with ``role``, or an officer without one.

    Without a password the account cannot sign in until a password is set through a one-time link.
    Records ``user.created`` (never the password or the ID number). Raises ``ValidationError``
    for invalid details or a password the policy refuses (all reasons, each with its code).
    """
    user = User(username=username, email=email, role=role, organization=organization, **details)
    user.full_clean(exclude=["password"])
    if password is None:
        user.set_unusable_password()
    else:
        # Every rule at once (length, own data, common list, strength); nothing is saved on refusal.
        validate_password(password, user)
        user.set_password(password)
        user.password_changed_at = timezone.now()
    user.save()
    if password is not None:
        _queue_breach_check(user, password)
    audit_event_record(
        action=Action.USER_CREATED,
        actor=actor,
        organization=organization,
        target=user,
        data={"username": user.username, "role": user.role},
    )
    return user


@transaction.atomic
def password_set(*, user: User, password: str, actor: User | None) -> User:
    """Give ``user`` a new password after every policy rule (including the last five, reversed or
    not) has passed. The replaced hash joins the history, which keeps ``PASSWORD_HISTORY`` - 1
    entries; records ``password.changed`` (without the password). Raises ``ValidationError``."""
    validate_password(password, user)
    previous = User.objects.select_for_update().values_list("password", flat=True).get(pk=user.pk)
    if previous and is_password_usable(previous):
        PasswordHistory.objects.create(user=user, password=previous)
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[
            max(settings.PASSWORD_HISTORY - 1, 0) :
        ]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.must_change_password = False
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    _queue_breach_check(user, password)
    audit_event_record(
        action=Action.PASSWORD_CHANGED,
        actor=actor,
        organization=user.organization,
        target=user,
        data={"by_self": actor is not None and actor.pk == user.pk},
    )
    notification_send(user=user, kind=Notification.Kind.PASSWORD_CHANGED)
    return user


def _queue_breach_check(user: User, password: str) -> None:
    """After the commit, a worker looks the password's SHA-1 up in the breach corpus. The
    plaintext stays in this request; breach corpora are published as SHA-1, hence SHA-1 here."""
    if not settings.BREACHED_PASSWORDS_PATH:
        return
    from accounts.tasks import evaluate_password_breach_task

    sha1 = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    enqueue_on_commit(evaluate_password_breach_task, user.pk, sha1, user.password_changed_at.isoformat())


@transaction.atomic
def password_breach_check(*, user_id: int, sha1: str, changed_at: str) -> bool:
    """Force a change at next sign-in when the password set at ``changed_at`` is in the breach
    corpus; records ``password.breached`` and tells the user. Does nothing if the password was
    changed again since or the flag is already set (a redelivered task is harmless)."""
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None or user.password_changed_at is None or user.password_changed_at.isoformat() != changed_at:
        return False
    if user.must_change_password or not is_breached(sha1, settings.BREACHED_PASSWORDS_PATH):
        return False
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    audit_event_record(
        action=Action.PASSWORD_BREACHED,
        actor=None,
        organization=user.organization,
        target=user,
        data={"corpus": "configured"},
    )
    notification_send(user=user, kind=Notification.Kind.PASSWORD_BREACHED)
    return True


def _mail_user(user: User, subject: str, message: str, recipient: str | None = None, **params) -> None:
    """One email about ``user`` (to their address unless ``recipient`` is given), in the portal's
    default language; ``subject`` and ``message`` are the untranslated strings (gettext_noop)."""
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=gettext(subject),
            message=gettext(message) % {"username": user.username, **params},
            from_email=None,
            recipient_list=[recipient or user.email],
        )


@transaction.atomic
def organization_register(*, organization: dict, owner: dict, password: str) -> User:
    """A trader enterprise registers itself with its owner account (DESIGN §4).

    The enterprise stays ``pending_verification`` until a matching certificate is bound or an
    officer verifies it. Records ``organization.created`` and ``user.created``; after the commit
    the owner gets a one-time link to verify the email address. Raises ``ValidationError`` (tax
    code, duplicates, contact data, password policy) and then nothing is saved.
    """
    created = organization_create(kind=Organization.Kind.TRADER, actor=None, **organization)
    user = user_create(role=User.Role.OWNER, organization=created, actor=None, password=password, **owner)
    transaction.on_commit(lambda: send_email_verification(user))
    return user


def send_email_verification(user: User) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse(
        "verify_email", kwargs={"token": email_verification_token(user)}
    )
    _mail_user(
        user,
        gettext_noop("Verify your email address"),
        gettext_noop(
            "Open this link within three days to verify the email address of your account "
            "%(username)s:\n\n%(link)s\n\nIf you did not register, ignore this message."
        ),
        link=link,
    )


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Mark the address in ``token`` verified. Raises ``ApplicationError`` with ``link_invalid``,
    ``link_expired`` or ``link_used``; records ``user.email_verified``."""
    try:
        payload = email_verification_read(token, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired:
        raise ApplicationError(
            gettext("This link has expired. Ask for a new one."), code="link_expired"
        ) from None
    except signing.BadSignature:
        raise ApplicationError(gettext("This link is not valid."), code="link_invalid") from None
    user = User.objects.select_for_update().filter(pk=payload.get("user")).first()
    if user is None or user.email != payload.get("email"):
        raise ApplicationError(gettext("This link is not valid."), code="link_invalid")
    if user.email_verified_at is not None:
        raise ApplicationError(gettext("This link has already been used."), code="link_used")
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    audit_event_record(
        action=Action.EMAIL_VERIFIED, actor=user, organization=user.organization, target=user, data={}
    )
    return user


def network_of(ip: str | None) -> str:
    """The network a sign-in came from: /24 for IPv4, /48 for IPv6 (DESIGN §9)."""
    if not ip:
        return ""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def username_digest(username: str) -> str:
    return hashlib.sha256((username or "").strip().lower().encode("utf-8")).hexdigest()


@transaction.atomic
def signin_record(
    *,
    user: User | None,
    username: str,
    succeeded: bool,
    device_id: str = "",
    factor: str = SignInEvent.Factor.PASSWORD,
) -> SignInEvent:
    """Record one sign-in attempt with where it came from (the bound request context), and its
    audit event in the same transaction. ``user`` is the account the name matched, if any. A
    success from a device this account never used before is told to its user."""
    context = current_context()
    ip = normalise_ip(context.ip)
    device_id = device_id[:64]
    new_device = (
        succeeded
        and user is not None
        and bool(device_id)
        and SignInEvent.objects.filter(user=user, outcome=SignInEvent.Outcome.SUCCEEDED).exists()
        and not SignInEvent.objects.filter(
            user=user, outcome=SignInEvent.Outcome.SUCCEEDED, device_id=device_id
        ).exists()
    )
    event = SignInEvent.objects.create(
        user=user,
        organization=user.organization if user else None,
        username_digest=username_digest(username),
        channel=context.channel
        if context.channel in SignInEvent.Channel.values
        else SignInEvent.Channel.PORTAL,
        outcome=SignInEvent.Outcome.SUCCEEDED if succeeded else SignInEvent.Outcome.FAILED,
        factor=factor,
        ip=ip,
        network=network_of(ip),
        user_agent=context.user_agent[:512],
        device_id=device_id,
        occurred_at=timezone.now(),
    )
    audit_event_record(
        action=Action.SIGNIN_SUCCEEDED if succeeded else Action.SIGNIN_FAILED,
        actor=user if succeeded else None,
        organization=event.organization,
        target=event,
        data={
            "user": str(user.pk) if user else None,
            "device": event.device_id,
            "network": event.network,
            "factor": factor,
        },
    )
    if new_device:
        from accounts.devices import describe_user_agent

        notification_send(
            user=user,
            kind=Notification.Kind.NEW_DEVICE,
            device=describe_user_agent(event.user_agent),
            network=event.network or "?",
        )
    _queue_signin_evaluation(event)
    return event


def _now() -> datetime.datetime:
    return timezone.now()


def accounts_suspend_inactive(*, now: datetime.datetime | None = None) -> int:
    """Suspend every active member account unused for ``ACCOUNT_INACTIVITY_DAYS`` (last sign-in,
    or creation if never), each with its ``user.suspended`` event. Officers are not included:
    their console has its own rules. Idempotent; returns how many were suspended."""
    now = now or _now()
    cutoff = now - datetime.timedelta(days=settings.ACCOUNT_INACTIVITY_DAYS)
    stale = (
        User.objects.filter(is_active=True, suspended_at__isnull=True, organization__isnull=False)
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .values_list("pk", flat=True)
    )
    suspended = 0
    for pk in list(stale):
        with transaction.atomic():
            # Claimed with a conditional update, so two sweeps never suspend (or record) twice.
            claimed = User.objects.filter(pk=pk, suspended_at__isnull=True).update(
                suspended_at=now, suspension_reason="inactivity"
            )
            if not claimed:
                continue
            user = User.objects.get(pk=pk)
            audit_event_record(
                action=Action.USER_SUSPENDED,
                actor=None,
                organization=user.organization,
                target=user,
                data={"reason": "inactivity", "days": settings.ACCOUNT_INACTIVITY_DAYS},
            )
            suspended += 1
    return suspended


@transaction.atomic
def user_reactivate(*, user: User, actor: User) -> User:
    """The enterprise's owner or an administrator lifts a suspension (inactivity) or undoes a
    deactivation; records ``user.reactivated``. Raises ``ApplicationError`` (``not_allowed``) for
    anyone else, including another enterprise. An officer may lift an owner's suspension."""
    if not actor.is_officer:
        _require_manageable(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.suspended_at is None and user.is_active:
        return user
    user.suspended_at = None
    user.suspension_reason = ""
    user.is_active = True
    user.deactivated_at = None
    # Counting inactivity from now, or the next sweep would suspend the account again at once.
    user.last_login = _now()
    user.save(
        update_fields=["suspended_at", "suspension_reason", "is_active", "deactivated_at", "last_login"]
    )
    audit_event_record(
        action=Action.USER_REACTIVATED, actor=actor, organization=user.organization, target=user, data={}
    )
    notification_send(
        user=user, kind=Notification.Kind.ACCOUNT_REACTIVATED, organization=user.organization.name
    )
    return user


def session_open(*, user: User, session_key: str, device_id: str = "") -> UserSession:
    """Remember a new portal session so its user can list and end it."""
    context = current_context()
    session, _created = UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "ip": normalise_ip(context.ip),
            "user_agent": context.user_agent[:512],
            "device_id": device_id[:64],
        },
    )
    return session


def session_forget(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def sessions_end(*, user: User, sessions: list[UserSession], actor: User) -> int:
    """End the given sessions of ``user`` (which must be theirs; the caller selected them through
    ``selectors.session_list_for_user``). Records ``session.ended`` for each."""
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in sessions:
        if session.user_id != user.pk:
            raise ApplicationError(gettext("No such session."), code="not_found", status_code=404)
        session_store(session_key=session.session_key).delete()
        audit_event_record(
            action=Action.SESSION_ENDED,
            actor=actor,
            organization=user.organization,
            target=session,
            data={"device": session.device_id},
        )
        session.delete()
        ended += 1
    return ended


CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "national_id_number", "job_title")


@transaction.atomic
def contact_update(*, user: User, actor: User, **changes) -> User:
    """Update a person's contact data. Records ``user.contact_changed`` naming the fields, never
    their values (ID numbers stay out of the trail). A new email address must be verified again;
    a change of email or phone is told to the old address too. Raises ``ValidationError``."""
    user = User.objects.select_for_update().get(pk=user.pk)  # a refusal must not alter the caller's copy
    changed = sorted(
        name for name in CONTACT_FIELDS if name in changes and changes[name] != getattr(user, name)
    )
    if not changed:
        return user
    old_email = user.email
    for name in changed:
        setattr(user, name, changes[name])
    if "email" in changed:
        user.email_verified_at = None
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*changed, "email_verified_at"])
    audit_event_record(
        action=Action.CONTACT_CHANGED,
        actor=actor,
        organization=user.organization,
        target=user,
        data={"fields": changed},
    )
    notification_send(
        user=user, kind=Notification.Kind.CONTACT_CHANGED, email=False, fields=", ".join(changed)
    )
    if {"email", "phone"} & set(changed) and old_email:
        transaction.on_commit(lambda: _tell_contact_changed(user, old_email, changed))
    if "email" in changed:
        transaction.on_commit(lambda: send_email_verification(user))
    return user


def _tell_contact_changed(user: User, old_email: str, changed: list[str]) -> None:
    # Sent to the address on file before the change, so a hijacker cannot silence the owner.
    _mail_user(
        user,
        gettext_noop("Your contact details were changed"),
        gettext_noop(
            "The contact details of your account %(username)s were changed (%(fields)s). If you did "
            "not do this, tell your enterprise's owner and customs at once."
        ),
        recipient=old_email,
        fields=", ".join(changed),
    )


# --- notifications -------------------------------------------------------------------------------


def notification_send(*, user: User, kind: str, email: bool = True, **params) -> Notification:
    """Tell ``user`` something about their account: a row in their portal list and, after the
    commit, an email from the notifications queue. ``params`` must be harmless (no secrets, no ID
    numbers): they are stored and mailed."""
    notification = Notification.objects.create(
        user=user, kind=kind, params={"username": user.username, **params}
    )
    if email and user.email:
        from accounts.tasks import notify_by_email_task

        enqueue_on_commit(notify_by_email_task, notification.pk)
    return notification


def notifications_send(*, items: list[tuple[User, str, dict]]) -> list[int]:
    """``notification_send`` for many ``(user, kind, params)`` at once: the rows inserted in one
    statement (as values: the risk engine sends a few per risky sign-in), each email queued after
    the commit as one at a time would. Returns the notifications' ids."""
    from accounts.tasks import notify_by_email_task

    ids = bulk_insert_values(
        Notification,
        [
            {"user_id": user.pk, "kind": kind, "params": {"username": user.username, **params}}
            for user, kind, params in items
        ],
    )
    for notification_id, (user, _kind, _params) in zip(ids, items, strict=True):
        if user.email:
            enqueue_on_commit(notify_by_email_task, notification_id)
    return ids


def notification_email(*, notification_id: int) -> bool:
    """Mail one notification to its user in the portal's default language; a redelivered task
    does not mail it twice."""
    from accounts.notices import notification_text

    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or notification.emailed_at is not None or not notification.user.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=str(Notification.Kind(notification.kind).label),
            message=notification_text(notification),
            from_email=None,
            recipient_list=[notification.user.email],
        )
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return True


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


# --- lock-out ------------------------------------------------------------------------------------


@transaction.atomic
def lockout_record(*, username: str, ip: str | None, cool_off: datetime.timedelta) -> Lockout | None:
    """django-axes locked ``username`` at ``ip`` for ``cool_off``: keep it (it lengthens the next
    cool-off), audit it and tell the account's user, if the name is an account. A lock-out
    recorded within the current cool-off is the same one: attempts while locked do not multiply it."""
    digest = username_digest(username)
    ip = normalise_ip(ip)
    recent = timezone.now() - cool_off
    if Lockout.objects.filter(username_digest=digest, ip=ip, locked_at__gte=recent).exists():
        return None
    user = User.objects.filter(username=username).first() if username else None
    lockout = Lockout.objects.create(username_digest=digest, ip=ip, user=user)
    audit_event_record(
        action=Action.SIGNIN_LOCKED,
        actor=None,
        organization=user.organization if user else None,
        target=lockout,
        data={"user": str(user.pk) if user else None, "network": network_of(ip)},
    )
    if user is not None:
        notification_send(user=user, kind=Notification.Kind.LOCKED_OUT)
    return lockout


# --- staff ---------------------------------------------------------------------------------------


def _require_manager(actor: User, organization_id: int | None) -> None:
    """Deny by default (rule 9): only the enterprise's own owner or an administrator manages it."""
    if organization_id is None or actor.organization_id != organization_id or not actor.is_manager:
        raise ApplicationError(
            gettext("Only the enterprise's owner or an administrator can do this."),
            code="not_allowed",
            status_code=403,
        )


def organization_working_hours_set(
    *,
    organization: Organization,
    actor: User,
    start: datetime.time,
    end: datetime.time,
    days: str,
    time_zone: str,
) -> Organization:
    """The enterprise's declared working hours, days (ISO weekday digits, 1 = Monday) and time zone,
    which the ``off_hours`` risk detector compares sign-ins with. Hours may wrap midnight (a night
    shift). Only its owner or an administrator declares them; audited. Raises ``ApplicationError``:
    ``not_allowed``, ``invalid_input`` (no day, an unknown day or time zone, start equal to end)."""
    _require_manager(actor, organization.pk)
    days = "".join(sorted(set(days)))
    if not days or not set(days) <= set("1234567"):
        raise ApplicationError(gettext("Choose at least one working day."), code="invalid_input")
    if start == end:
        raise ApplicationError(gettext("The working day must not start when it ends."), code="invalid_input")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ApplicationError(gettext("Unknown time zone."), code="invalid_input") from None
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        organization.working_hours_start, organization.working_hours_end = start, end
        organization.working_days, organization.time_zone = days, time_zone
        organization.save(
            update_fields=[
                "working_hours_start",
                "working_hours_end",
                "working_days",
                "time_zone",
                "updated_at",
            ]
        )
        audit_event_record(
            action=Action.ORGANIZATION_SETTINGS_CHANGED,
            actor=actor,
            organization=organization,
            target=organization,
            data={
                "working_hours": f"{start:%H:%M}-{end:%H:%M}",
                "working_days": days,
                "time_zone": time_zone,
            },
        )
    return organization


def organization_signature_notice_set(
    *, organization: Organization, notice: str, actor: User
) -> Organization:
    """How the trader is told of signatures in its name: one notification each, or a daily digest.
    Only its owner or an administrator chooses, and the choice is audited: a quieter setting is
    what someone misusing the enterprise's certificate would want."""
    _require_manager(actor, organization.pk)
    if notice not in Organization.SignatureNotice.values:
        raise ApplicationError(gettext("Choose one of the offered settings."), code="invalid_input")
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if organization.signature_notice == notice:
            return organization
        previous, organization.signature_notice = organization.signature_notice, notice
        organization.save(update_fields=["signature_notice", "updated_at"])
        audit_event_record(
            action=Action.ORGANIZATION_SETTINGS_CHANGED,
            actor=actor,
            organization=organization,
            target=organization,
            data={"signature_notice": notice, "previous": previous},
        )
    return organization


def _invitation_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt="accounts.staff-invitation")


def invitation_token(invitation: StaffInvitation) -> str:
    return _invitation_signer().sign_object({"invitation": invitation.pk, "email": invitation.email})


@transaction.atomic
def staff_invite(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    national_id_number: str,
    role: str,
    job_title: str = "",
) -> StaffInvitation:
    """Invite a named person into the actor's enterprise in ``role``. Refused (``ValidationError``)
    for the owner role, an email already used by an account, or a person (ID number) who already
    has an account or a pending invitation here. Records ``user.invited``; the link goes out
    after the commit."""
    _require_manager(actor, actor.organization_id)
    organization = actor.organization
    if role not in User.STAFF_ROLES:
        raise ValidationError({"role": ValidationError(gettext("Choose a staff role."), code="invalid_role")})
    if actor.role == User.Role.ADMINISTRATOR and role == User.Role.ADMINISTRATOR:
        raise ValidationError(
            {
                "role": ValidationError(
                    gettext("Only the owner can appoint administrators."), code="not_allowed"
                )
            }
        )
    invitation = StaffInvitation(
        organization=organization,
        email=email.strip(),
        first_name=first_name,
        last_name=last_name,
        national_id_number=national_id_number,
        job_title=job_title,
        role=role,
        invited_by=actor,
        expires_at=timezone.now() + datetime.timedelta(days=settings.INVITATION_DAYS),
    )
    invitation.full_clean()
    errors = {}
    if User.objects.filter(email__iexact=invitation.email).exists():
        errors["email"] = ValidationError(
            gettext("This email address is already used by another account."), code="duplicate_email"
        )
    if User.objects.filter(organization=organization, national_id_number=national_id_number).exists():
        errors["national_id_number"] = ValidationError(
            gettext("This person already has an account in your enterprise: one person, one account."),
            code="duplicate_person",
        )
    if errors:
        raise ValidationError(errors)
    invitation.save()
    audit_event_record(
        action=Action.USER_INVITED,
        actor=actor,
        organization=organization,
        target=invitation,
        data={"role": role},
    )
    transaction.on_commit(lambda: _send_invitation(invitation))
    return invitation


def _send_invitation(invitation: StaffInvitation) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse(
        "invitation_accept", kwargs={"token": invitation_token(invitation)}
    )
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=gettext("You are invited to %(organization)s")
            % {"organization": invitation.organization.name},
            message=gettext(
                "%(person)s, %(inviter)s invites you to join %(organization)s in the Customs Signature "
                "Governance portal as %(role)s. Open this link within %(days)d days to choose your "
                "username and password:\n\n%(link)s\n\nThe account is yours alone: never share it."
            )
            % {
                "person": f"{invitation.first_name} {invitation.last_name}",
                "inviter": invitation.invited_by.get_full_name() or invitation.invited_by.username,
                "organization": invitation.organization.name,
                "role": User.Role(invitation.role).label,
                "days": settings.INVITATION_DAYS,
                "link": link,
            },
            from_email=None,
            recipient_list=[invitation.email],
        )


def invitation_read(*, token: str) -> StaffInvitation:
    """The pending invitation behind a link. Raises ``ApplicationError``: ``link_invalid``,
    ``link_expired`` or ``link_used`` (accepted or cancelled)."""
    try:
        payload = _invitation_signer().unsign_object(token)
    except signing.BadSignature:
        raise ApplicationError(gettext("This link is not valid."), code="link_invalid") from None
    invitation = (
        StaffInvitation.objects.select_related("organization", "invited_by")
        .filter(pk=payload.get("invitation"), email=payload.get("email"))
        .first()
    )
    if invitation is None:
        raise ApplicationError(gettext("This link is not valid."), code="link_invalid")
    if invitation.status != StaffInvitation.Status.PENDING:
        raise ApplicationError(gettext("This link has already been used."), code="link_used")
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(gettext("This link has expired. Ask for a new one."), code="link_expired")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str) -> User:
    """The invited person takes the account: the details the owner entered, the username and
    password they choose (the whole policy applies, with their own data as context). The address
    counts as verified, since the link reached it. Raises ``ApplicationError`` for a bad link,
    ``ValidationError`` for the username or password; nothing is saved on refusal."""
    invitation = invitation_read(token=token)
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != StaffInvitation.Status.PENDING:  # a concurrent acceptance won
        raise ApplicationError(gettext("This link has already been used."), code="link_used")
    user = user_create(
        username=username,
        email=invitation.email,
        role=invitation.role,
        organization=invitation.organization,
        actor=None,
        password=password,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        national_id_number=invitation.national_id_number,
        job_title=invitation.job_title,
        email_verified_at=timezone.now(),
    )
    invitation.status = StaffInvitation.Status.ACCEPTED
    invitation.user = user
    invitation.closed_at = timezone.now()
    invitation.save(update_fields=["status", "user", "closed_at"])
    notification_send(
        user=invitation.invited_by,
        kind=Notification.Kind.INVITATION_ACCEPTED,
        person=user.get_full_name(),
        role=user.role,
    )
    return user


@transaction.atomic
def invitation_cancel(*, invitation: StaffInvitation, actor: User) -> StaffInvitation:
    _require_manager(actor, invitation.organization_id)
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != StaffInvitation.Status.PENDING:
        raise ApplicationError(gettext("This invitation is no longer pending."), code="not_pending")
    invitation.status = StaffInvitation.Status.CANCELLED
    invitation.closed_at = timezone.now()
    invitation.save(update_fields=["status", "closed_at"])
    audit_event_record(
        action=Action.INVITATION_CANCELLED,
        actor=actor,
        organization=invitation.organization,
        target=invitation,
        data={},
    )
    return invitation


def _require_manageable(actor: User, member: User) -> None:
    """The owner is managed by no one in the portal; an administrator manages neither the owner
    nor other administrators; nobody changes their own role or deactivates themselves."""
    _require_manager(actor, member.organization_id)
    if (
        member.pk == actor.pk
        or member.role == User.Role.OWNER
        or (actor.role == User.Role.ADMINISTRATOR and member.role == User.Role.ADMINISTRATOR)
    ):
        raise ApplicationError(
            gettext("You cannot change this account."), code="not_allowed", status_code=403
        )


@transaction.atomic
def member_role_change(*, member: User, role: str, actor: User) -> User:
    """Give a staff member another staff role; records ``user.role_changed`` and tells them."""
    _require_manageable(actor, member)
    if role not in User.STAFF_ROLES:
        raise ApplicationError(gettext("Choose a staff role."), code="invalid_role")
    if actor.role == User.Role.ADMINISTRATOR and role == User.Role.ADMINISTRATOR:
        raise ApplicationError(
            gettext("Only the owner can appoint administrators."), code="not_allowed", status_code=403
        )
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.role == role:
        return member
    previous = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit_event_record(
        action=Action.USER_ROLE_CHANGED,
        actor=actor,
        organization=member.organization,
        target=member,
        data={"from": previous, "to": role},
    )
    notification_send(
        user=member, kind=Notification.Kind.ROLE_CHANGED, organization=member.organization.name, role=role
    )
    return member


@transaction.atomic
def member_deactivate(*, member: User, actor: User) -> User:
    """The person has left, or must stop now: the account can no longer sign in, and its sessions
    end. Records ``user.deactivated``."""
    _require_manageable(actor, member)
    member = User.objects.select_for_update().get(pk=member.pk)
    if not member.is_active:
        return member
    member.is_active = False
    member.deactivated_at = timezone.now()
    member.save(update_fields=["is_active", "deactivated_at"])
    audit_event_record(
        action=Action.USER_DEACTIVATED, actor=actor, organization=member.organization, target=member, data={}
    )
    sessions_end_all(user=member)
    notification_send(
        user=member, kind=Notification.Kind.ACCOUNT_DEACTIVATED, organization=member.organization.name
    )
    return member


def sessions_end_all(*, user: User) -> None:
    """End every portal session of ``user`` now (deactivation, a misuse report)."""
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    for session in UserSession.objects.filter(user=user):
        session_store(session_key=session.session_key).delete()
        session.delete()


# --- second factor -------------------------------------------------------------------------------


def mfa_required(user: User) -> bool:
    return user.is_officer or (user.organization_id is not None and user.role in settings.MFA_REQUIRED_ROLES)


def mfa_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_totp_begin(*, user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator for ``user`` to scan; it counts only once confirmed, and
    replaces the current one then."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def mfa_totp_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Turn on the authenticator ``device`` once it shows a right code; any earlier authenticator is
    dropped and new recovery codes are returned (shown once, stored only as digests). Records
    ``mfa.changed``. Raises ``ApplicationError`` (``mfa_code_invalid``)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(_normalise_code(token)):
        raise ApplicationError(
            gettext("That code is not right. Try the current one."), code="mfa_code_invalid"
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user)
    audit_event_record(
        action=Action.MFA_CHANGED,
        actor=user,
        organization=user.organization,
        target=user,
        data={"change": "enabled"},
    )
    notification_send(user=user, kind=Notification.Kind.MFA_ENABLED)
    return codes


@transaction.atomic
def mfa_disable(*, user: User, actor: User) -> None:
    """Turn the second factor off; refused where the role requires it (``mfa_required``)."""
    if mfa_required(user):
        raise ApplicationError(
            gettext("Your role requires two-factor authentication. Set up a new authenticator instead."),
            code="mfa_required",
        )
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    audit_event_record(
        action=Action.MFA_CHANGED,
        actor=actor,
        organization=user.organization,
        target=user,
        data={"change": "disabled"},
    )
    notification_send(user=user, kind=Notification.Kind.MFA_DISABLED)


@transaction.atomic
def mfa_recovery_codes_regenerate(*, user: User) -> list[str]:
    if not mfa_enabled(user):
        raise ApplicationError(gettext("Turn on two-factor authentication first."), code="mfa_not_enabled")
    codes = _recovery_codes_replace(user)
    audit_event_record(
        action=Action.MFA_CHANGED,
        actor=user,
        organization=user.organization,
        target=user,
        data={"change": "recovery_codes"},
    )
    notification_send(user=user, kind=Notification.Kind.RECOVERY_CODES)
    return codes


def _recovery_codes_replace(user: User) -> list[str]:
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [RecoveryCode.generate() for _ in range(settings.MFA_RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, digest=RecoveryCode.digest_of(c)) for c in codes
    )
    return codes


def _normalise_code(token: str) -> str:
    return "".join((token or "").split()).replace("-", "").upper()[:32]


def mfa_verify(*, user: User, token: str):
    """The user's device that accepts ``token`` (an authenticator code, or an unused recovery code,
    which is then spent), or ``None``. Devices throttle repeated failures themselves."""
    token = _normalise_code(token)
    if not token:
        return None
    for device in [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *RecoveryCodeDevice.objects.filter(user=user, confirmed=True),
    ]:
        if device.verify_is_allowed()[0] and device.verify_token(token):
            if isinstance(device, RecoveryCodeDevice):
                notification_send(
                    user=user, kind=Notification.Kind.RECOVERY_CODE_USED, remaining=device.remaining()
                )
            return device
    return None


def mfa_recovery_codes_remaining(user: User) -> int:
    return RecoveryCode.objects.filter(device__user=user, used_at__isnull=True).count()


@transaction.atomic
def organization_verify(*, organization: Organization, actor: User | None, reason: str) -> Organization:
    """A ``pending_verification`` enterprise becomes ``active``: an officer checked it, or it bound a
    certificate carrying its own tax code (``actor`` is then ``None`` and ``reason`` says so).
    Records ``organization.verified``; verifying an active enterprise again changes nothing.
    Raises ``ApplicationError`` (``not_allowed``) for anyone but an officer or the system."""
    if actor is not None and not actor.is_officer:
        raise ApplicationError(
            gettext("Only a customs officer can verify an enterprise."), code="not_allowed", status_code=403
        )
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.status != Organization.Status.PENDING_VERIFICATION:
        return organization
    organization.status = Organization.Status.ACTIVE
    organization.verified_at = timezone.now()
    organization.save(update_fields=["status", "verified_at", "updated_at"])
    audit_event_record(
        action=Action.ORGANIZATION_VERIFIED,
        actor=actor,
        organization=organization,
        target=organization,
        data={"reason": reason[:200]},
    )
    return organization


# --- who decides: checks the officers' and managers' decisions share (brokers, signatures, officers)


def require_officer(actor: User | None, *, system_allowed: bool = False) -> None:
    """Only a customs officer decides this; with ``system_allowed``, also the system itself
    (``actor=None``: a sweep or an automatic response)."""
    if actor is None and system_allowed:
        return
    if actor is None or not actor.is_officer:
        raise ApplicationError(
            gettext("Only a customs officer can do this."), code="not_allowed", status_code=403
        )


def require_reason(reason: str) -> str:
    """The reason an officer or a manager gives for a decision: required, kept to 2,000 characters."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            gettext("Give the reason."), code="reason_required", fields={"reason": ["required"]}
        )
    return reason[:2000]


# --- risk engine (DESIGN §9; README "Risk engine") -------------------------------------------------


def _severity_at_least(severity: str, threshold: str) -> bool:
    from accounts.risk import SEVERITY_RANK

    return bool(severity) and SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]


def _queue_signin_evaluation(event: SignInEvent) -> None:
    """After the commit, evaluate on the ``risk`` queue; a broker outage is logged (without
    secrets: the task carries the event id only) and the sweep evaluates the event later, so
    signing in never depends on Redis."""
    from accounts.tasks import evaluate_sign_in_task

    enqueue_on_commit(evaluate_sign_in_task, event.pk)


# Spray flags are about a source, not an account: one open flag per campaign.
_SUBJECTLESS_DETECTORS = frozenset({"password_spray"})


# The claim loads each sign-in whole with its user and organisation (every column: what the
# detectors read, and what the flags, responses, questions and notifications of a risky one need),
# so nothing is loaded again for the sign-ins with findings.
@functools.cache
def _columns(model) -> tuple[list[str], list[tuple[int, list]]]:
    """A model's fields in ``Model.from_db`` order, and the converters of those that have any
    (a JSON column arrives as text)."""
    from django.db import connection

    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        found = connection.ops.get_db_converters(field) + field.get_db_converters(connection)
        if found:
            converters.append((index, found))
    return [field.attname for field in fields], converters


def _select_list(alias: str, model) -> str:
    # Named, in the model's order: a table's own column order is the order its migrations added them.
    from django.db import connection

    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def _converted(value, functions: list):
    from django.db import connection

    for function in functions:
        value = function(value, None, connection)
    return value


def _from_row(model, columns: tuple[list[str], list[tuple[int, list]]], values) -> Model:
    names, converters = columns
    if converters:
        values = list(values)
        for index, functions in converters:
            values[index] = _converted(values[index], functions)
    return model.from_db("default", names, values)


# On PostgreSQL the one-sign-in claim (the task's) and its load are one statement: the UPDATE
# claims (evaluated_at null -> now) and already writes a clean result (score 0, no reasons), which
# is what most sign-ins get, so a clean evaluation writes nothing more. A batch's claim only locks
# its rows (FOR UPDATE SKIP LOCKED, through the partial index signin_unevaluated, so two workers
# sweeping at once take disjoint batches instead of waiting) and the batch writes every sign-in's
# result once at the end: the claim's update cannot be a HOT update (evaluated_at is in
# signin_unevaluated's predicate), so writing a risky sign-in twice put two new versions of it in
# every index of the table.
_CLAIM_SELECT = f"""
    SELECT {_select_list("e", SignInEvent)}, {_select_list("u", User)}, {_select_list("o", Organization)}
    FROM {{source}} e
    -- Each user and organisation read by its primary key: planned as plain joins, a hash join
    -- reads the whole table for every batch (LIMIT 1 keeps the subqueries from being merged).
    LEFT JOIN LATERAL (SELECT * FROM accounts_user WHERE id = e.user_id LIMIT 1) u ON true
    LEFT JOIN LATERAL (SELECT * FROM accounts_organization WHERE id = e.organization_id LIMIT 1) o ON true
    {{where}}
    ORDER BY e.id
"""  # noqa: S608 - the models' own column names, no input
_CLAIM_ONE = """
    WITH e AS (
        UPDATE accounts_signinevent SET evaluated_at = %s, risk_score = 0, risk_reasons = '[]'::jsonb
        WHERE id = %s AND evaluated_at IS NULL
        RETURNING *
    )
""" + _CLAIM_SELECT.format(source="e", where="")  # noqa: S608 - no input
_CLAIM_BATCH = _CLAIM_SELECT.format(
    source="accounts_signinevent",
    where="""WHERE e.id IN (
        SELECT id FROM accounts_signinevent
        WHERE evaluated_at IS NULL AND (id = %s OR (id > %s AND occurred_at < %s))
        ORDER BY id = %s DESC, id LIMIT %s FOR UPDATE SKIP LOCKED
    )""",
)


def _claimed_from_rows(rows) -> tuple[list[SignInEvent], dict[int, datetime.datetime]]:
    event_columns, user_columns, organization_columns = (
        _columns(SignInEvent),
        _columns(User),
        _columns(Organization),
    )
    user_start = len(event_columns[0])
    organization_start = user_start + len(user_columns[0])
    date_joined = user_columns[0].index("date_joined")
    date_joined_converters = dict(user_columns[1]).get(date_joined, [])
    events = []
    created_at = {}
    for row in rows:
        event = _from_row(SignInEvent, event_columns, row[:user_start])
        if event.user_id is None:
            event.user = None
        else:
            # The account itself is built when a finding needs it (_claimed_users_attach): most
            # sign-ins are clean, and their detectors only read when the account was created.
            event._claimed_user_row = row[user_start:organization_start]
            created_at[event.user_id] = _converted(row[user_start + date_joined], date_joined_converters)
        event.organization = (
            None
            if event.organization_id is None
            else _from_row(Organization, organization_columns, row[organization_start:])
        )
        events.append(event)
    return events, created_at


def _claimed_users_attach(events: list[SignInEvent]) -> None:
    """Gives each claimed sign-in its account from the claim's row (read again if it has none)."""
    for event in events:
        row = event.__dict__.pop("_claimed_user_row", None)
        if row is not None and not SignInEvent.user.is_cached(event):
            event.user = _from_row(User, _columns(User), row)


def _signins_claim(
    *,
    event_id: int | None = None,
    older_than=None,
    after: int = 0,
    limit: int = 1,
    first: int | None = None,
) -> tuple[list[SignInEvent], dict[int, datetime.datetime]]:
    """Claims one sign-in (``event_id``) or a batch (unevaluated, ``id > after``, happened before
    ``older_than``, oldest first, sign-in ``first`` first if it is still unevaluated) in the
    caller's transaction. One sign-in is written clean at once (score 0, ``evaluated_at`` now); a
    batch is only locked, and ``_signins_results_write`` writes it. Returns the claimed sign-ins
    (each with its organisation, and on PostgreSQL its account's row for ``_claimed_users_attach``;
    ``evaluated_at`` set) and when each one's account was created."""
    from django.db import connection

    now = _now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if event_id is not None:
                cursor.execute(_CLAIM_ONE, [now, event_id])
            else:
                cursor.execute(_CLAIM_BATCH, [first, after, older_than, first, limit])
            events, created_at = _claimed_from_rows(cursor.fetchall())
        for event in events:
            event.evaluated_at, event.risk_score, event.risk_reasons = now, 0, []
        return events, created_at
    # SQLite (development): its transactions take the write lock first (IMMEDIATE), so what is
    # selected here is still unclaimed when it is updated.
    if event_id is not None:
        ids = [event_id]
    else:
        ids = [first] if first is not None else []
        ids += [
            pk
            for pk in selectors.signin_unevaluated_ids(older_than=older_than, after=after, limit=limit)
            if pk != first
        ][: limit - len(ids)]
    claimed = SignInEvent.objects.filter(pk__in=ids, evaluated_at__isnull=True)
    if not claimed.update(evaluated_at=now, risk_score=0, risk_reasons=[]):
        return [], {}
    events = list(
        SignInEvent.objects.select_related("user", "organization")
        .filter(pk__in=ids, evaluated_at=now)
        .order_by("id")
    )
    return events, {event.user_id: event.user.date_joined for event in events if event.user_id is not None}


def _signins_results_write(events: list[SignInEvent]) -> None:
    """Each sign-in's ``evaluated_at``, score and reasons, in one statement."""
    bulk_update_rows(SignInEvent, events, ["evaluated_at", "risk_score", "risk_reasons"])


def _signins_findings_record(
    *, found: list[tuple[SignInEvent, list]], clean: list[SignInEvent] | tuple = ()
) -> None:
    """Writes the findings of sign-ins (each loaded with its user and organisation), in order:
    a flag per finding (``flags_raise`` counts repeats, as ``flag_raise`` would one by one), each
    sign-in's result (with those of the ``clean`` sign-ins, in one statement), the responses for
    its highest severity and, for a new flag from ``RISK_NOTIFY_SEVERITY`` up, the "was this you?"
    questions."""
    from accounts import risk

    _claimed_users_attach([event for event, _findings in found])
    sightings = []
    # Each finding's reason, whose English sentence is also its flag's explanation: one switch to
    # English per finding instead of two.
    reasons = [[finding.as_reason() for finding in findings] for _event, findings in found]
    for (event, findings), event_reasons in zip(found, reasons, strict=True):
        for finding, reason in zip(findings, event_reasons, strict=True):
            subjectless = finding.detector in _SUBJECTLESS_DETECTORS
            sightings.append(
                Sighting(
                    kind=finding.detector,
                    severity=finding.severity,
                    explanation=reason["message"],
                    user=None if subjectless else event.user,
                    organization=None if subjectless else event.organization,
                    evidence={**finding.evidence, "signin": str(event.pk)},
                )
            )
    raised = iter(flags_raise(sightings=sightings))
    new_flags = {}
    for (event, findings), event_reasons in zip(found, reasons, strict=True):
        new_flags[event.pk] = 0
        for reason in event_reasons:
            flag, created = next(raised)
            reason["flag"] = flag.pk
            new_flags[event.pk] += created
        event.risk_score = risk.combined_score(findings)
        event.risk_reasons = event_reasons
    _signins_results_write([event for event, _findings in found] + list(clean))
    # Responses are taken on every risky sign-in (an attacker's new session must end too), but
    # people are told and asked once per new flag: a password being guessed for an hour counts on
    # its open flag instead of sending a question per attempt.
    risky = [
        (event, risk.highest_severity(findings), bool(new_flags[event.pk]))
        for event, findings in found
        if event.user is not None
    ]
    risk_respond_many(risky=[item for item in risky if item[1]])
    signin_reviews_ask(
        events=[
            event
            for event, severity, told in risky
            if told and _severity_at_least(severity, settings.RISK_NOTIFY_SEVERITY)
        ]
    )


def _clean_commit_need_not_wait() -> None:
    """A transaction that only claimed sign-ins and wrote them clean (score 0) commits without
    waiting for its WAL to reach disk (PostgreSQL's ``synchronous_commit = off`` for this
    transaction only): a crash can lose it only whole, claim included, and the sweep then
    evaluates those sign-ins again to the same result; nothing was told or queued. The flush was
    most of a clean evaluation's time. Transactions with findings (flags, audit events,
    notifications) still wait."""
    from django.db import connection

    # Only as the outermost transaction: inside a caller's, it would not wait for the caller's
    # own writes either.
    if connection.vendor == "postgresql" and not connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def signin_evaluate(*, event_id: int) -> SignInEvent | None:
    """Run the configured detectors over one sign-in: its score and reasons, a flag per finding
    (``flag_raise`` counts repeats), the automatic responses of ``RISK_RESPONSES`` for its
    highest severity, and from ``RISK_NOTIFY_SEVERITY`` up a "was this you?" question to the
    user and their enterprise's owner when a flag is new (a repeat counts on its open flag).
    Idempotent: the event is claimed by a conditional update
    in the same transaction as the results, so a redelivered task, or the sweep racing the task,
    evaluates it once; a crash rolls the claim back and the sweep retries. Returns the event, or
    ``None`` if already evaluated (or gone)."""
    from accounts import risk

    with transaction.atomic():
        claimed, created_at = _signins_claim(event_id=event_id)
        if not claimed:
            return None
        [event] = claimed
        history = selectors.risk_history_get(event=event, created_at=created_at.get(event.user_id))
        findings = risk.evaluate(event, history)
        if findings:
            _signins_findings_record(found=[(event, findings)])
        else:
            _clean_commit_need_not_wait()
        return event


@dataclass(frozen=True)
class BatchResult:
    claimed: int  # sign-ins this batch took
    evaluated: int  # ... and evaluated (the others failed, were logged, and wait for the next sweep)
    last_id: int  # the largest id it took (the next batch starts after it)


def signin_evaluate_batch(
    *, older_than: datetime.datetime, after: int = 0, limit: int = 500, first: int | None = None
) -> BatchResult:
    """Claim up to ``limit`` unevaluated sign-ins (``id > after``, happened before
    ``older_than``, oldest first; on PostgreSQL skipping those another worker holds) and evaluate
    them in one transaction, with the same findings, flags, responses and questions as
    ``signin_evaluate`` each: one statement claims and loads the batch, one reads every history
    (``selectors.risk_histories_get``), and one writes every sign-in's result. If the batch fails
    it is rolled back and its sign-ins are evaluated one by one, so one that cannot be evaluated is
    logged (its id only) and does not hold back the others."""
    ids: list[int] = []
    try:
        with transaction.atomic():
            events, created_at = _signins_claim(older_than=older_than, after=after, limit=limit, first=first)
            ids = [event.id for event in events]
            _signins_evaluate_claimed(events=events, created_at=created_at)
        return BatchResult(claimed=len(ids), evaluated=len(ids), last_id=max(ids, default=after))
    except Exception:
        if not ids:
            raise
        logger.exception("could not evaluate a batch of %d sign-ins; evaluating them one by one", len(ids))
    evaluated = 0
    for event_id in ids:
        try:
            if signin_evaluate(event_id=event_id) is not None:
                evaluated += 1
        except Exception:
            logger.exception("could not evaluate sign-in %s; the next sweep tries again", event_id)
    return BatchResult(claimed=len(ids), evaluated=evaluated, last_id=max(ids))


def _signins_evaluate_claimed(*, events: list[SignInEvent], created_at: dict[int, datetime.datetime]) -> None:
    """Evaluates a claimed batch in the caller's transaction: the histories, the detectors, and
    every sign-in's result with the flags, responses and questions of those with findings."""
    from accounts import risk

    if not events:
        return
    histories = selectors.risk_histories_get(events=events, created_at=created_at)
    found = []
    clean = []
    for event in events:
        findings = risk.evaluate(event, histories[event.id])
        if findings:
            found.append((event, findings))
        else:
            clean.append(event)
    if found:
        _signins_findings_record(found=found, clean=clean)
    else:
        _clean_commit_need_not_wait()
        _signins_results_write(clean)


def signin_evaluate_with_backlog(*, event_id: int) -> BatchResult:
    """What the task does with its sign-in: evaluates it in a batch with up to
    ``RISK_BATCH_SIZE - 1`` other sign-ins still waiting (oldest first, skipping those another
    worker holds). With no backlog the batch is the sign-in alone; under load one message
    evaluates many, and the messages of the sign-ins it took find them evaluated and do
    nothing, so workers catch up in batches instead of a transaction per sign-in."""
    return signin_evaluate_batch(older_than=_now(), limit=settings.RISK_BATCH_SIZE, first=event_id)


def signin_evaluate_pending(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """The sweep: evaluate every sign-in still unevaluated ``RISK_SWEEP_AFTER_SECONDS`` after it
    happened (its message was lost, or the broker was down), oldest first, in batches
    (``signin_evaluate_batch``) until none is left. Returns how many it evaluated."""
    now = now or _now()
    older_than = now - datetime.timedelta(seconds=settings.RISK_SWEEP_AFTER_SECONDS)
    evaluated = 0
    after = 0
    while True:
        result = signin_evaluate_batch(older_than=older_than, after=after, limit=batch)
        evaluated += result.evaluated
        if result.claimed < batch:
            return evaluated
        after = result.last_id


# --- automatic responses --------------------------------------------------------------------------

RESPONSE_LABELS = {
    "step_up": gettext_noop("confirm it is you at your next step"),
    "end_sessions": gettext_noop("all your sessions were ended"),
    "lock_account": gettext_noop("the account is locked until your enterprise's owner reactivates it"),
    "suspend_certificates": gettext_noop("the certificates you may sign with are suspended"),
}


# Each response acts on a list of sign-ins (a batch) and returns the details of each. A user may
# appear twice in a batch; what a response did is told at the first sign-in, as one at a time would.


def _respond_step_up(events: list[SignInEvent]) -> list[dict]:
    User.objects.filter(pk__any={event.user_id for event in events}).update(step_up_required_at=_now())
    return [{} for _event in events]


def _sessions_end(user_ids: set[int]) -> dict[int, int]:
    """Ends every portal session of these users; returns how many each had."""
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = list(UserSession.objects.filter(user_id__any=user_ids))
    ended: dict[int, int] = {}
    for session in sessions:
        session_store(session_key=session.session_key).delete()
        ended[session.user_id] = ended.get(session.user_id, 0) + 1
    if sessions:
        UserSession.objects.filter(pk__in=[session.pk for session in sessions]).delete()
    return ended


def _respond_end_sessions(events: list[SignInEvent]) -> list[dict]:
    ended = _sessions_end({event.user_id for event in events})
    return [{"sessions": ended.pop(event.user_id, 0)} for event in events]


def _respond_lock_account(events: list[SignInEvent]) -> list[dict]:
    User.objects.filter(pk__any={event.user_id for event in events}, suspended_at__isnull=True).update(
        suspended_at=_now(), suspension_reason="risk"
    )
    _sessions_end({event.user_id for event in events})
    return [{} for _event in events]


def _respond_suspend_certificates(events: list[SignInEvent]) -> list[dict]:
    from accounts.risk.signals import certificates_suspend_requested

    details = []
    for event in events:
        results = certificates_suspend_requested.send(
            sender=SignInEvent, user=event.user, event=event, reason="risk"
        )
        details.append({"certificates": sum(int(result or 0) for _receiver, result in results)})
    return details


RESPONSES = {
    "step_up": _respond_step_up,
    "end_sessions": _respond_end_sessions,
    "lock_account": _respond_lock_account,
    "suspend_certificates": _respond_suspend_certificates,
}


def risk_respond(*, event: SignInEvent, severity: str, tell: bool = True) -> list[str]:
    """Take the responses ``RISK_RESPONSES[severity]`` names, each recorded as ``risk.response``,
    and (``tell``) tell the user what was done in one notification. Returns the responses taken."""
    return risk_respond_many(risky=[(event, severity, tell)])[0]


def risk_respond_many(*, risky: list[tuple[SignInEvent, str, bool]]) -> list[list[str]]:
    """``risk_respond`` for many ``(sign-in, severity, tell)`` at once, each response taken for
    all the sign-ins that call for it together and the ``risk.response`` events inserted in one
    statement. Returns the responses taken for each."""
    taken: list[list[str]] = [[] for _item in risky]
    details: dict[tuple[int, str], dict] = {}
    for name, respond in RESPONSES.items():
        indexes = [
            n
            for n, (_e, severity, _t) in enumerate(risky)
            if name in settings.RISK_RESPONSES.get(severity, [])
        ]
        if not indexes:
            continue
        for n, detail in zip(indexes, respond([risky[n][0] for n in indexes]), strict=True):
            details[n, name] = detail
    events = []
    for n, (event, severity, _tell) in enumerate(risky):
        for name in settings.RISK_RESPONSES.get(severity, []):
            events.append(
                {
                    "action": Action.RISK_RESPONSE,
                    "organization": event.organization,
                    "target": event.user,
                    "data": {
                        "response": name,
                        "severity": severity,
                        "signin": str(event.pk),
                        **details[n, name],
                    },
                }
            )
            taken[n].append(name)
    audit_events_record(events=events)
    notifications_send(
        items=[
            (event.user, Notification.Kind.RISK_RESPONSE, {"responses": taken[n], "signin": event.pk})
            for n, (event, _severity, tell) in enumerate(risky)
            if taken[n] and tell
        ]
    )
    return taken


# --- "was this you?" -------------------------------------------------------------------------------


def signin_review_ask(*, event: SignInEvent) -> list[SignInReview]:
    """Ask the account's user and their enterprise's owner (email and portal), each with their
    own single-use "this was me" / "this was not me" links."""
    return signin_reviews_ask(events=[event])


def signin_reviews_ask(*, events: list[SignInEvent]) -> list[SignInReview]:
    """``signin_review_ask`` for many sign-ins: the owners of all their enterprises read in one
    query, the questions and their notifications each inserted in one statement."""
    owners: dict[int, list[User]] = {}
    organizations = {event.organization_id for event in events if event.organization_id is not None}
    if organizations:
        for owner in User.objects.filter(
            organization_id__any=organizations, role=User.Role.OWNER, is_active=True
        ).order_by("pk"):
            owners.setdefault(owner.organization_id, []).append(owner)
    expires_at = _now() + datetime.timedelta(days=settings.RISK_REVIEW_DAYS)
    asked = [
        (event, recipient)
        for event in events
        for recipient in [event.user]
        + [owner for owner in owners.get(event.organization_id, []) if owner.pk != event.user_id]
    ]
    reviews = bulk_insert_rows(
        SignInReview,
        [SignInReview(event=event, recipient=recipient, expires_at=expires_at) for event, recipient in asked],
    )
    notifications_send(
        items=[
            (
                recipient,
                Notification.Kind.SIGNIN_REVIEW,
                {
                    "review": review.pk,
                    "account": event.user.username,
                    "when": timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M"),
                    "network": event.network or "?",
                    "reasons": [reason["detector"] for reason in event.risk_reasons],
                },
            )
            for review, (event, recipient) in zip(reviews, asked, strict=True)
        ]
    )
    return reviews


def _review_refused(*, reason: str, actor: User | None, review: SignInReview | None) -> ApplicationError:
    # Committed on its own (the caller raises, rolling back anything else): refusals are evidence.
    audit_event_record(
        action=Action.SIGNIN_REVIEW_REFUSED,
        actor=actor if actor is not None and actor.is_authenticated else None,
        organization=review.event.organization if review else None,
        target=review,
        data={"reason": reason},
    )
    messages = {
        "forged": gettext("This link is not valid."),
        "expired": gettext("This link has expired."),
        "used": gettext("This question has already been answered."),
        "not_yours": gettext("This question was sent to someone else. Sign in as its recipient."),
    }
    codes = {
        "forged": "link_invalid",
        "expired": "link_expired",
        "used": "link_used",
        "not_yours": "not_allowed",
    }
    return ApplicationError(
        messages[reason], code=codes[reason], status_code=403 if reason == "not_yours" else 400
    )


def signin_review_get(*, token: str, actor: User | None) -> SignInReview:
    """The open review behind a link, for ``actor`` (``None`` or anonymous: not signed in).
    A forged, expired, used or someone else's link is refused and recorded
    (``signin.review_refused``) before ``ApplicationError`` is raised."""
    from accounts import selectors
    from accounts.tokens import signin_review_read

    try:
        payload = signin_review_read(token)
    except signing.BadSignature:
        payload = None
    if payload is None:
        with transaction.atomic():
            error = _review_refused(reason="forged", actor=actor, review=None)
        raise error
    review = selectors.signin_review_for_token(review_id=payload["r"], nonce=payload["n"])
    reason = None
    if review is None:
        reason = "forged"
    elif actor is not None and actor.is_authenticated and actor.pk != review.recipient_id:
        reason = "not_yours"
    elif review.answered_at is not None:
        reason = "used"
    elif review.expires_at <= _now():
        reason = "expired"
    if reason:
        with transaction.atomic():
            error = _review_refused(reason=reason, actor=actor, review=review)
        raise error
    return review


def signin_review_answer(*, token: str, answer: str, actor: User | None) -> SignInReview:
    """Answer a "was this you?" question once.

    "This was me" needs the recipient signed in (it lowers protection): it closes the event's
    low and medium flags (``answered``), remembers the device and network for the account and
    lifts a pending step-up. "This was not me" works from the link alone (it only raises
    protection, and the account may be locked): the event's flags become high, and
    ``signin_disowned`` asks signatures for an abuse report (sessions ended, password change
    forced, certificates suspended, a high flag for officers); without a receiver accounts does
    the account side itself. Records ``signin.reviewed``. Raises ``ApplicationError``."""
    if answer not in (SignInReview.Answer.ME, SignInReview.Answer.NOT_ME):
        raise ApplicationError(gettext("Choose an answer."), code="invalid_answer")
    # Checked outside the transaction below, so that a refusal's audit event is kept.
    review = signin_review_get(token=token, actor=actor)
    if answer == SignInReview.Answer.ME and (actor is None or not actor.is_authenticated):
        raise ApplicationError(
            gettext("Sign in to confirm it was you."), code="not_authenticated", status_code=403
        )
    with transaction.atomic():
        answered = _signin_review_close(review=review, answer=answer, actor=actor)
    if not answered:  # a concurrent answer won
        with transaction.atomic():
            error = _review_refused(reason="used", actor=actor, review=review)
        raise error
    return review


def _signin_review_close(*, review: SignInReview, answer: str, actor: User | None) -> bool:
    now = _now()
    # The first answer to an event wins: this review and its siblings close together.
    won = SignInReview.objects.filter(pk=review.pk, answered_at__isnull=True).update(
        answered_at=now, answer=answer, answered_by=actor if actor and actor.is_authenticated else None
    )
    if not won:
        return False
    SignInReview.objects.filter(event_id=review.event_id, answered_at__isnull=True).update(
        answered_at=now, answer=SignInReview.Answer.SUPERSEDED
    )
    event = review.event
    flag_ids = [reason["flag"] for reason in event.risk_reasons if reason.get("flag")]
    flags = Flag.objects.select_for_update().filter(pk__in=flag_ids, status=Flag.Status.OPEN)
    if answer == SignInReview.Answer.ME:
        closed = list(
            flags.filter(severity__in=[Flag.Severity.LOW, Flag.Severity.MEDIUM]).values_list("pk", flat=True)
        )
        Flag.objects.filter(pk__in=closed).update(status=Flag.Status.ANSWERED, outcome="confirmed_by_user")
        for kind, value in (
            (KnownPlace.Kind.DEVICE, event.device_id),
            (KnownPlace.Kind.NETWORK, event.network),
        ):
            if value:
                KnownPlace.objects.get_or_create(user_id=event.user_id, kind=kind, value=value)
        User.objects.filter(pk=event.user_id).update(step_up_required_at=None)
    else:
        closed = list(flags.values_list("pk", flat=True))
        Flag.objects.filter(pk__in=closed).update(
            status=Flag.Status.ANSWERED, outcome="denied_by_user", severity=Flag.Severity.HIGH
        )
    outcome = "confirmed_by_user" if answer == SignInReview.Answer.ME else "denied_by_user"
    for flag in Flag.objects.filter(pk__in=closed):
        audit_event_record(
            action=Action.FLAG_ANSWERED,
            actor=actor if actor and actor.is_authenticated else None,
            organization=flag.organization,
            target=flag,
            data={"kind": flag.kind, "outcome": outcome, "severity": flag.severity},
        )
    audit_event_record(
        action=Action.SIGNIN_REVIEWED,
        actor=actor if actor and actor.is_authenticated else None,
        organization=event.organization,
        target=event,
        data={"answer": answer, "flags": [str(pk) for pk in closed], "recipient": str(review.recipient_id)},
    )
    if answer == SignInReview.Answer.NOT_ME:
        _signin_disown(event=event, reporter=review.recipient)
    return True


def _signin_disown(*, event: SignInEvent, reporter: User) -> None:
    from accounts.risk.signals import signin_disowned

    handled = any(
        result
        for _receiver, result in signin_disowned.send(
            sender=SignInEvent, event=event, reporter=reporter, user=event.user
        )
    )
    if handled:
        return
    # No abuse-report service installed (or not applicable, e.g. an officer's account).
    User.objects.filter(pk=event.user_id).update(must_change_password=True)
    sessions_end_all(user=event.user)
    flag_raise(
        kind="misuse_reported",
        severity=Flag.Severity.HIGH,
        explanation="A risky sign-in was reported as not made by the account's user.",
        user=event.user,
        organization=event.organization,
        evidence={"signin": str(event.pk), "reporter": str(reporter.pk)},
    )
