"""Misuse reports (DESIGN §9): "my signature or account was misused", from any member of the
enterprise."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Notification, User
from accounts.services.notifications import notification_send
from accounts.services.sessions import sessions_end_all
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from audit.services.flags import flag_raise
from core.errors import ApplicationError
from signatures.models import AbuseReport, Certificate
from signatures.services.lifecycle import certificate_locked, certificate_status_set
from signatures.signals import abuse_reported


@transaction.atomic
def abuse_report(
    *,
    reporter: User,
    description: str,
    reported_user: User | None = None,
    certificates: list[Certificate] | None = None,
    related_flags: list[Flag] = (),
) -> AbuseReport:
    """ "My signature or account was misused" (any member of the enterprise). Suspends the chosen
    certificates (every active one by default), ends the reported account's sessions and forces its
    password change, opens a high-severity ``abuse_report`` flag, sends ``abuse_reported`` (the
    officers' app opens a case with the flag and ``related_flags``, such as those of a sign-in
    disowned as "not me" that are in no open case yet), and tells every officer."""
    organization = reporter.organization
    if organization is None:
        raise ApplicationError(
            gettext("Only members of an enterprise can report misuse."), code="not_allowed"
        )
    if reported_user is not None and reported_user.organization_id != organization.pk:
        raise ApplicationError(
            gettext("No such person in your enterprise."), code="not_found", status_code=404
        )
    active = Certificate.objects.filter(organization=organization, status=Certificate.Status.ACTIVE)
    if certificates is None:
        chosen = list(active)
    else:
        chosen = list(active.filter(pk__in=[c.pk for c in certificates]))
        if len(chosen) != len({c.pk for c in certificates}):
            raise ApplicationError(gettext("No such active certificate."), code="not_found", status_code=404)
    report = AbuseReport.objects.create(
        organization=organization,
        reporter=reporter,
        reported_user=reported_user,
        description=description[:4000],
    )
    report.certificates.set(chosen)
    for certificate in chosen:
        certificate_status_set(
            certificate_locked(certificate),
            Certificate.Status.SUSPENDED,
            actor=None,
            reason=gettext("Suspended after a misuse report."),
            action=Action.CERTIFICATE_SUSPENDED,
            data={"by": "system", "abuse_report": str(report.pk)},
            suspended_by=Certificate.SuspendedBy.SYSTEM,
        )
    if reported_user is not None:
        User.objects.filter(pk=reported_user.pk).update(must_change_password=True)
        sessions_end_all(user=reported_user)
    flag, _created = flag_raise(
        kind="abuse_report",
        severity=Flag.Severity.HIGH,
        user=reported_user or reporter,
        organization=organization,
        explanation="A member of the enterprise reported that its signature or an account was misused.",
        evidence={
            "report": str(report.pk),
            "certificates": [c.fingerprint_sha256 for c in chosen],
            "reporter": str(reporter.pk),
        },
    )
    report.flag = flag
    report.save(update_fields=["flag"])
    # A misuse report is a case for officers from the start (officers.receivers opens it, in this
    # transaction: a failure there undoes the report too, as any step of it would).
    abuse_reported.send(sender=AbuseReport, report=report, flags=[flag, *related_flags])
    audit_event_record(
        action=Action.ABUSE_REPORTED,
        actor=reporter,
        organization=organization,
        target=report,
        data={
            "reported_user": str(reported_user.pk) if reported_user else None,
            "certificates": [str(c.pk) for c in chosen],
        },
    )
    for officer in User.objects.filter(role=User.Role.OFFICER, is_active=True):
        notification_send(user=officer, kind=Notification.Kind.ABUSE_REPORTED, organization=organization.name)
    return report
