"""What signatures does when the accounts risk engine asks (accounts may not import signatures;
``accounts.risk.signals``)."""

from __future__ import annotations

from django.dispatch import receiver
from django.utils.translation import gettext

from accounts.risk.signals import certificates_suspend_requested, signin_disowned
from audit.models import Flag
from signatures.models import Certificate
from signatures.services import lifecycle, misuse


def _signable_certificates(user) -> list[Certificate]:
    """The active certificates ``user`` may sign with: those involved if the account is misused."""
    return list(Certificate.objects.filter(custodians=user, status=Certificate.Status.ACTIVE))


@receiver(signin_disowned, dispatch_uid="signatures.signin_disowned")
def _signin_disowned(sender, event, reporter, user, **_kwargs) -> bool:
    """ "This was not me" is a misuse report: the abuse-report service ends the account's
    sessions, forces its password change, suspends the certificates it may sign with and opens a
    high ``abuse_report`` flag for officers. Officers' accounts (no enterprise) are left to
    accounts' own handling."""
    if reporter.organization_id is None or user is None or user.organization_id != reporter.organization_id:
        return False
    flag_ids = [reason["flag"] for reason in event.risk_reasons or [] if reason.get("flag")]
    misuse.abuse_report(
        reporter=reporter,
        reported_user=user,
        certificates=_signable_certificates(user),
        related_flags=list(Flag.objects.filter(pk__in=flag_ids)),
        description=gettext("Sign-in %(signin)s was reported as not made by the account's user.")
        % {"signin": event.pk},
    )
    return True


@receiver(certificates_suspend_requested, dispatch_uid="signatures.certificates_suspend_requested")
def _certificates_suspend_requested(sender, user, event, reason, **_kwargs) -> int:
    suspended = 0
    for certificate in _signable_certificates(user):
        lifecycle.certificate_suspend(
            certificate=certificate,
            actor=None,
            reason=gettext("Suspended automatically after a risky sign-in (%(signin)s).")
            % {"signin": event.pk},
        )
        suspended += 1
    return suspended
