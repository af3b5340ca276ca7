"""Writes for organisations and their people. Every function is one use case, atomic."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from importlib import import_module

from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts.breach_corpus import is_breached
from accounts.models import Organization, PasswordHistory, SignInEvent, User, UserSession
from accounts.tokens import email_verification_read, email_verification_token
from accounts.validators import normalize_tax_code
from audit.context import current_context, normalise_ip
from audit.models import Action
from audit.services import audit_event_record
from config.errors import ApplicationError
from config.tasks import enqueue_on_commit


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
    if user.email:
        transaction.on_commit(lambda: _tell_breached(user))
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


def _tell_breached(user: User) -> None:
    _mail_user(
        user,
        gettext_noop("Your password must be changed"),
        gettext_noop(
            "The password of your account %(username)s appears in a published list of breached "
            "passwords. You will be asked to choose a new one at your next sign-in."
        ),
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
def signin_record(*, user: User | None, username: str, succeeded: bool, device_id: str = "") -> SignInEvent:
    """Record one sign-in attempt with where it came from (the bound request context), and its
    audit event in the same transaction. ``user`` is the account the name matched, if any."""
    context = current_context()
    ip = normalise_ip(context.ip)
    event = SignInEvent.objects.create(
        user=user,
        organization=user.organization if user else None,
        username_digest=username_digest(username),
        channel=context.channel
        if context.channel in SignInEvent.Channel.values
        else SignInEvent.Channel.PORTAL,
        outcome=SignInEvent.Outcome.SUCCEEDED if succeeded else SignInEvent.Outcome.FAILED,
        ip=ip,
        network=network_of(ip),
        user_agent=context.user_agent[:512],
        device_id=device_id[:64],
        occurred_at=timezone.now(),
    )
    audit_event_record(
        action=Action.SIGNIN_SUCCEEDED if succeeded else Action.SIGNIN_FAILED,
        actor=user if succeeded else None,
        organization=event.organization,
        target=event,
        data={"user": str(user.pk) if user else None, "device": event.device_id, "network": event.network},
    )
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
    """The enterprise's owner or an administrator lifts a suspension; records ``user.reactivated``.
    Raises ``ApplicationError`` (``not_allowed``) for anyone else, including another enterprise."""
    if (
        actor.organization_id is None
        or actor.organization_id != user.organization_id
        or actor.role
        not in (
            User.Role.OWNER,
            User.Role.ADMINISTRATOR,
        )
    ):
        raise ApplicationError(
            gettext("Only the enterprise's owner or an administrator can do this."), code="not_allowed"
        )
    if user.suspended_at is None:
        return user
    user.suspended_at = None
    user.suspension_reason = ""
    # Counting inactivity from now, or the next sweep would suspend the account again at once.
    user.last_login = _now()
    user.save(update_fields=["suspended_at", "suspension_reason", "last_login"])
    audit_event_record(
        action=Action.USER_REACTIVATED, actor=actor, organization=user.organization, target=user, data={}
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
