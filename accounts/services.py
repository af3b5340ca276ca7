"""Writes for organisations and their people. Every function is one use case, atomic."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, PasswordHistory, User
from accounts.validators import normalize_tax_code
from audit.models import Action
from audit.services import audit_event_record


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
    audit_event_record(
        action=Action.PASSWORD_CHANGED,
        actor=actor,
        organization=user.organization,
        target=user,
        data={"by_self": actor is not None and actor.pk == user.pk},
    )
    return user
