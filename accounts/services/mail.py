"""Mail to a person, in the portal's default language: a notification (the ``notify_by_email``
task's work) or a one-off message such as an address verification."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Notification, User
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


def notification_email(*, notification_id: int) -> bool:
    """Mail one notification to its user in the portal's default language; a redelivered task
    does not mail it twice."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or notification.emailed_at is not None or not notification.user.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=str(Notification.Kind(notification.kind).label),
            message=notification_text(notification),
            from_email=None,
            recipient_list=[notification.user.email],
        )
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return True
