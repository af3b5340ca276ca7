"""Officers' decisions on an enterprise: suspend it, lift the suspension, mark it as not cooperating
with customs (the mark counts against its compliance level). Verification stays in accounts: a
certificate bearing the enterprise's own tax code verifies it too, without an officer."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Organization, User
from accounts.services.permissions import require_officer, require_reason
from audit.models import Action
from audit.services.events import audit_event_record
from core.errors import ApplicationError


@transaction.atomic
def organization_suspend(*, organization: Organization, actor: User, reason: str) -> Organization:
    """An officer suspends an enterprise (its status becomes ``suspended``). Records
    ``organization.suspended``. Raises ``ApplicationError``: ``not_allowed``, ``reason_required``,
    ``invalid_transition`` (already suspended)."""
    require_officer(actor)
    reason = require_reason(reason)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.status == Organization.Status.SUSPENDED:
        raise ApplicationError(gettext("This enterprise is already suspended."), code="invalid_transition")
    previous = organization.status
    organization.status = Organization.Status.SUSPENDED
    organization.save(update_fields=["status", "updated_at"])
    audit_event_record(
        action=Action.ORGANIZATION_SUSPENDED,
        actor=actor,
        organization=organization,
        target=organization,
        data={"reason": reason[:500], "previous": previous},
    )
    return organization


@transaction.atomic
def organization_reinstate(*, organization: Organization, actor: User, reason: str) -> Organization:
    """Lift an enterprise's suspension: it becomes ``active`` (the officer has looked at it, which is
    at least the check a verification is). Records ``organization.reinstated``."""
    require_officer(actor)
    reason = require_reason(reason)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.status != Organization.Status.SUSPENDED:
        raise ApplicationError(gettext("This enterprise is not suspended."), code="invalid_transition")
    organization.status = Organization.Status.ACTIVE
    organization.save(update_fields=["status", "updated_at"])
    audit_event_record(
        action=Action.ORGANIZATION_REINSTATED,
        actor=actor,
        organization=organization,
        target=organization,
        data={"reason": reason[:500], "status": organization.status},
    )
    return organization


@transaction.atomic
def organization_non_cooperation_set(
    *, organization: Organization, marked: bool, actor: User, reason: str
) -> Organization:
    """Mark an enterprise as not cooperating with customs (or clear the mark), with the reason;
    the mark counts against its compliance level at the next classification. Records
    ``organization.non_cooperation``."""
    require_officer(actor)
    reason = require_reason(reason)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.non_cooperation == marked:
        raise ApplicationError(
            gettext("The enterprise is already marked so.")
            if marked
            else gettext("There is no mark to clear."),
            code="invalid_transition",
        )
    organization.non_cooperation = marked
    organization.non_cooperation_reason = reason if marked else ""
    organization.save(update_fields=["non_cooperation", "non_cooperation_reason", "updated_at"])
    audit_event_record(
        action=Action.ORGANIZATION_NON_COOPERATION,
        actor=actor,
        organization=organization,
        target=organization,
        data={"marked": marked, "reason": reason[:500]},
    )
    return organization
