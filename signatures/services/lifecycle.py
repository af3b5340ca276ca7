"""A bound certificate's life (DESIGN §4, §5 rule 3): suspension, reinstatement, revocation,
expiry and the reminders before it. Every change of status goes through ``certificate_status_set``,
which records its audit action and tells the enterprise's managers."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, User
from accounts.services.notifications import notification_send
from audit.models import Action
from audit.services.events import audit_event_record
from core.errors import ApplicationError
from signatures.models import Certificate

EXPIRY_REMINDER_DAYS = (30, 7, 1)

_NOTICE_OF_STATUS = {
    Certificate.Status.SUSPENDED: Notification.Kind.CERTIFICATE_SUSPENDED,
    Certificate.Status.REVOKED: Notification.Kind.CERTIFICATE_REVOKED,
    Certificate.Status.ACTIVE: Notification.Kind.CERTIFICATE_REINSTATED,
    Certificate.Status.EXPIRED: Notification.Kind.CERTIFICATE_EXPIRED,
}


def _now() -> datetime.datetime:
    return timezone.now()


def require_manager_of(actor: User, organization_id: int) -> None:
    """Raise ``not_allowed`` (403) unless ``actor`` is an owner or administrator of the enterprise."""
    if actor.organization_id != organization_id or not actor.is_manager:
        raise ApplicationError(
            gettext("Only the enterprise's owner or an administrator can do this."),
            code="not_allowed",
            status_code=403,
        )


def certificate_managers_tell(certificate: Certificate, kind: str, **params) -> None:
    """Notify every active owner and administrator of the certificate's enterprise."""
    for manager in User.objects.filter(
        organization=certificate.organization, role__in=User.MANAGER_ROLES, is_active=True
    ):
        notification_send(user=manager, kind=kind, certificate=certificate.subject[:200], **params)


def certificate_locked(certificate: Certificate) -> Certificate:
    """The certificate's row, locked until the transaction ends, with its organisation."""
    return Certificate.objects.select_for_update().select_related("organization").get(pk=certificate.pk)


def certificate_status_set(
    certificate: Certificate, status: str, *, actor, reason, action, data, suspended_by=""
) -> Certificate:
    """Change a locked certificate's status once: record ``action`` and tell the managers. The
    caller has checked that the transition is allowed."""
    certificate.status = status
    certificate.status_reason = reason[:500]
    certificate.suspended_by = suspended_by
    certificate.status_changed_at = _now()
    certificate.save(update_fields=["status", "status_reason", "suspended_by", "status_changed_at"])
    # The reason goes into the trail too: a case's timeline reads why, not only what.
    audit_event_record(
        action=action,
        actor=actor,
        organization=certificate.organization,
        target=certificate,
        data={**data, "reason": reason[:500]} if reason else data,
    )
    certificate_managers_tell(certificate, _NOTICE_OF_STATUS[status])
    return certificate


def _actor_side(actor: User | None, certificate: Certificate) -> str:
    if actor is None:
        return Certificate.SuspendedBy.SYSTEM
    if actor.is_officer:
        return Certificate.SuspendedBy.OFFICER
    require_manager_of(actor, certificate.organization_id)
    return Certificate.SuspendedBy.OWNER


@transaction.atomic
def certificate_suspend(*, certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    """Stop an active certificate from signing: by its enterprise's owner or an administrator, an
    officer, or the system (``actor=None``: a misuse report, a high-severity flag)."""
    side = _actor_side(actor, certificate)
    certificate = certificate_locked(certificate)
    if certificate.status != Certificate.Status.ACTIVE:
        raise ApplicationError(gettext("Only an active certificate can be suspended."), code="invalid_status")
    return certificate_status_set(
        certificate,
        Certificate.Status.SUSPENDED,
        actor=actor,
        reason=reason,
        action=Action.CERTIFICATE_SUSPENDED,
        data={"by": side},
        suspended_by=side,
    )


@transaction.atomic
def certificate_reinstate(*, certificate: Certificate, actor: User) -> Certificate:
    """Lift a suspension: an officer always; the enterprise only its own suspensions."""
    side = _actor_side(actor, certificate)
    certificate = certificate_locked(certificate)
    if certificate.status != Certificate.Status.SUSPENDED:
        raise ApplicationError(gettext("This certificate is not suspended."), code="invalid_status")
    if side != Certificate.SuspendedBy.OFFICER and certificate.suspended_by != Certificate.SuspendedBy.OWNER:
        raise ApplicationError(
            gettext("Customs suspended this certificate; only customs can reinstate it."),
            code="not_allowed",
            status_code=403,
        )
    if certificate.not_after <= _now():
        raise ApplicationError(gettext("This certificate has expired."), code="certificate_expired")
    return certificate_status_set(
        certificate,
        Certificate.Status.ACTIVE,
        actor=actor,
        reason="",
        action=Action.CERTIFICATE_REINSTATED,
        data={"by": side},
    )


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """End a binding for good (by the enterprise or an officer). A new binding needs a new upload."""
    side = _actor_side(actor, certificate)
    certificate = certificate_locked(certificate)
    if certificate.status in (Certificate.Status.REVOKED, Certificate.Status.EXPIRED):
        raise ApplicationError(gettext("This certificate is no longer in use."), code="invalid_status")
    return certificate_status_set(
        certificate,
        Certificate.Status.REVOKED,
        actor=actor,
        reason=reason,
        action=Action.CERTIFICATE_REVOKED,
        data={"by": side},
    )


def certificates_expire(*, now: datetime.datetime | None = None) -> int:
    """Daily: every certificate past its validity becomes ``expired``. Idempotent."""
    now = now or _now()
    expired = 0
    due = Certificate.objects.filter(
        not_after__lte=now,
        status__in=[
            Certificate.Status.PENDING_PROOF,
            Certificate.Status.ACTIVE,
            Certificate.Status.SUSPENDED,
        ],
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            certificate = Certificate.objects.select_for_update().select_related("organization").get(pk=pk)
            if certificate.status in (Certificate.Status.REVOKED, Certificate.Status.EXPIRED):
                continue
            certificate_status_set(
                certificate,
                Certificate.Status.EXPIRED,
                actor=None,
                reason=gettext("The certificate's validity ended."),
                action=Action.CERTIFICATE_EXPIRED,
                data={"not_after": certificate.not_after.isoformat()},
            )
            expired += 1
    return expired


def certificates_remind_expiry(*, now: datetime.datetime | None = None) -> int:
    """Daily: 30, 7 and 1 days before a certificate ends, tell its enterprise's managers and its
    custodians, once per step (a missed day still sends the step due)."""
    now = now or _now()
    sent = 0
    # Nearest step first: a certificate whose earlier steps were missed gets only the one due now.
    for days in sorted(EXPIRY_REMINDER_DAYS):
        due = Certificate.objects.filter(
            status=Certificate.Status.ACTIVE,
            not_after__gt=now,
            not_after__lte=now + datetime.timedelta(days=days),
        ).exclude(expiry_reminded_days__lte=days)
        for pk in list(due.values_list("pk", flat=True)):
            with transaction.atomic():
                claimed = (
                    Certificate.objects.filter(pk=pk)
                    .exclude(expiry_reminded_days__lte=days)
                    .update(expiry_reminded_days=days)
                )
                if not claimed:
                    continue
                certificate = Certificate.objects.select_related("organization").get(pk=pk)
                people = {
                    *User.objects.filter(
                        organization=certificate.organization, role__in=User.MANAGER_ROLES, is_active=True
                    ),
                    *certificate.custodians.filter(is_active=True),
                }
                for person in people:
                    notification_send(
                        user=person,
                        kind=Notification.Kind.CERTIFICATE_EXPIRING,
                        certificate=certificate.subject[:200],
                        date=f"{certificate.not_after:%Y-%m-%d}",
                    )
                sent += 1
    return sent
