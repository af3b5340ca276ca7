"""Accounts: creation, contact details and their verification, reactivation."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts.models import Notification, Organization, User
from accounts.services.mail import mail_user
from accounts.services.notifications import notification_send
from accounts.services.passwords import queue_breach_check
from accounts.services.permissions import require_manageable
from accounts.tokens import email_verification_read, email_verification_token
from audit.models import Action
from audit.services.events import audit_event_record
from core.errors import ApplicationError
from core.links import absolute_url


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
        queue_breach_check(user, password)
    audit_event_record(
        action=Action.USER_CREATED,
        actor=actor,
        organization=organization,
        target=user,
        data={"username": user.username, "role": user.role},
    )
    return user


def send_email_verification(user: User) -> None:
    link = absolute_url(reverse("verify_email", kwargs={"token": email_verification_token(user)}))
    mail_user(
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


def _now() -> datetime.datetime:
    return timezone.now()


@transaction.atomic
def user_reactivate(*, user: User, actor: User) -> User:
    """The enterprise's owner or an administrator lifts a suspension (inactivity) or undoes a
    deactivation; records ``user.reactivated``. Raises ``ApplicationError`` (``not_allowed``) for
    anyone else, including another enterprise. An officer may lift an owner's suspension."""
    if not actor.is_officer:
        require_manageable(actor, user)
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
    mail_user(
        user,
        gettext_noop("Your contact details were changed"),
        gettext_noop(
            "The contact details of your account %(username)s were changed (%(fields)s). If you did "
            "not do this, tell your enterprise's owner and customs at once."
        ),
        recipient=old_email,
        fields=", ".join(changed),
    )
