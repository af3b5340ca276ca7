"""Writes for organisations and their people. Every function is one use case, atomic."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from accounts.validators import normalize_tax_code


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

    Raises ``ValidationError`` (code ``invalid_tax_code``, or ``unique`` for a duplicate).
    """
    organization = Organization(
        kind=kind, tax_code=normalize_tax_code(tax_code), name=name, status=status, **details
    )
    if status == Organization.Status.ACTIVE:
        organization.verified_at = timezone.now()
    organization.full_clean()
    organization.save()
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
    """
    user = User(username=username, email=email, role=role, organization=organization, **details)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
        user.password_changed_at = timezone.now()
    user.full_clean(exclude=["password"])
    user.save()
    return user
