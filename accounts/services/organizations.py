"""Enterprises: creation, self-registration, verification and the settings their managers
declare (working hours, how signatures in their name are told)."""

from __future__ import annotations

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Organization, StaffInvitation, User
from accounts.services.permissions import require_manager
from accounts.services.staff import operator_invite
from accounts.services.users import send_email_verification, user_create
from accounts.validators import normalize_tax_code
from audit.models import Action
from audit.services.events import audit_event_record
from core.errors import ApplicationError


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
def organization_onboard(
    *, kind: str, tax_code: str, name: str, owner: dict, **details: str
) -> StaffInvitation:
    """The operator creates an enterprise from the command line and invites its owner (``owner``:
    email, first_name, last_name, national_id_number, optional job_title), who takes the account
    through the one-time link. The portal's checks apply; nothing is saved on refusal. Records
    ``organization.created`` and ``user.invited`` with no actor. Raises ``ValidationError``."""
    if kind not in Organization.Kind.values:
        raise ValidationError(
            {"kind": ValidationError(gettext("Choose trader or broker."), code="invalid_choice")}
        )
    organization = organization_create(kind=kind, tax_code=tax_code, name=name, actor=None, **details)
    return operator_invite(organization=organization, role=User.Role.OWNER, **owner)


@transaction.atomic
def organization_register(
    *, organization: dict, owner: dict, password: str, kind: str = Organization.Kind.TRADER
) -> User:
    """An enterprise (a trader, or a broker that will apply for its licence) registers itself with
    its owner account (DESIGN §4).

    The enterprise stays ``pending_verification`` until a matching certificate is bound or an
    officer verifies it. Records ``organization.created`` and ``user.created``; after the commit
    the owner gets a one-time link to verify the email address. Raises ``ValidationError`` (tax
    code, duplicates, contact data, password policy) and then nothing is saved.
    """
    created = organization_create(kind=kind, actor=None, **organization)
    user = user_create(role=User.Role.OWNER, organization=created, actor=None, password=password, **owner)
    transaction.on_commit(lambda: send_email_verification(user))
    return user


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
    require_manager(actor, organization.pk)
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
    require_manager(actor, organization.pk)
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
