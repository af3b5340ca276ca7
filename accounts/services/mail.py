"""Mail to a person, in the portal's default language: a notification (the ``notify_by_email``
task's work) or a one-off message such as an address verification."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Notification, SignInEvent, User
from accounts.notices import notification_text


def mail_user(user: User, subject: str, message: str, recipient: str | None = None, **params) -> None:
    """One email about ``user`` (to their address unless ``recipient`` is given), in the portal's
    default language; ``subject`` and ``message`` are the untranslated strings (gettext_noop)."""
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=gettext(subject),
            message=gettext(message) % {"username": user.username, **params},
            from_email=None,
            recipient_list=[recipient or user.email],
        )


def notification_email_wait(*, notification_id: int) -> float:
    """Seconds the notification's email should still wait (0: send it now). A notice about a sign-in
    (``params["signin"]``: the new-device notice) waits for the sign-in's evaluation, which may
    replace it with a notice carrying more (the risk engine's protection, a "was this you?"
    question): mailed after that, one sign-in is one email. It waits at most
    ``NOTIFICATION_SIGNIN_WAIT_SECONDS`` after the sign-in: a late evaluation (the risk queue is
    down until its sweep) does not hold back a notice that must be told. Polls at a pace that
    slows as the sign-in ages, from a second up to half a minute."""
    signin_id = (
        Notification.objects.filter(pk=notification_id, emailed_at__isnull=True)
        .values_list("params__signin", flat=True)
        .first()
    )
    if not signin_id:
        return 0.0
    occurred_at = (
        SignInEvent.objects.filter(pk=signin_id, evaluated_at__isnull=True)
        .values_list("occurred_at", flat=True)
        .first()
    )
    if occurred_at is None:
        return 0.0
    age = (timezone.now() - occurred_at).total_seconds()
    remaining = settings.NOTIFICATION_SIGNIN_WAIT_SECONDS - age
    if remaining <= 0:
        return 0.0
    return min(remaining, max(1.0, min(30.0, age / 2)))


def notification_email(*, notification_id: int) -> bool:
    """Mail one notification to its user in the portal's default language. The row is claimed
    first with a conditional update (``emailed_at`` set only where it is still empty), so two
    deliveries at once (a redelivered task, or the new-device notice's task and the task of the
    risk notice that replaced it) mail it once; a failed send gives the claim back for the retry."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or notification.emailed_at is not None or not notification.user.email:
        return False
    claimed_at = timezone.now()
    if not Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=claimed_at
    ):
        return False
    # Read again after the claim: a replacement written meanwhile is what is mailed.
    notification.refresh_from_db(fields=["kind", "params"])
    try:
        with translation.override(settings.LANGUAGE_CODE):
            send_mail(
                subject=str(Notification.Kind(notification.kind).label),
                message=notification_text(notification),
                from_email=None,
                recipient_list=[notification.user.email],
            )
    except Exception:
        Notification.objects.filter(pk=notification.pk, emailed_at=claimed_at).update(emailed_at=None)
        raise
    return True
