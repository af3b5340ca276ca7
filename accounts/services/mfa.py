"""The second factor: an authenticator (TOTP) and single-use recovery codes."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Notification, RecoveryCode, RecoveryCodeDevice, User
from accounts.services.notifications import notification_send
from audit.models import Action
from audit.services.events import audit_event_record
from core.errors import ApplicationError


def mfa_required(user: User) -> bool:
    return user.is_officer or (user.organization_id is not None and user.role in settings.MFA_REQUIRED_ROLES)


def mfa_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_totp_begin(*, user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator for ``user`` to scan; it counts only once confirmed, and
    replaces the current one then."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def mfa_totp_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Turn on the authenticator ``device`` once it shows a right code; any earlier authenticator is
    dropped and new recovery codes are returned (shown once, stored only as digests). Records
    ``mfa.changed``. Raises ``ApplicationError`` (``mfa_code_invalid``)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(_normalise_code(token)):
        raise ApplicationError(
            gettext("That code is not right. Try the current one."), code="mfa_code_invalid"
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user)
    audit_event_record(
        action=Action.MFA_CHANGED,
        actor=user,
        organization=user.organization,
        target=user,
        data={"change": "enabled"},
    )
    notification_send(user=user, kind=Notification.Kind.MFA_ENABLED)
    return codes


@transaction.atomic
def mfa_disable(*, user: User, actor: User) -> None:
    """Turn the second factor off; refused where the role requires it (``mfa_required``)."""
    if mfa_required(user):
        raise ApplicationError(
            gettext("Your role requires two-factor authentication. Set up a new authenticator instead."),
            code="mfa_required",
        )
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    audit_event_record(
        action=Action.MFA_CHANGED,
        actor=actor,
        organization=user.organization,
        target=user,
        data={"change": "disabled"},
    )
    notification_send(user=user, kind=Notification.Kind.MFA_DISABLED)


@transaction.atomic
def mfa_recovery_codes_regenerate(*, user: User) -> list[str]:
    if not mfa_enabled(user):
        raise ApplicationError(gettext("Turn on two-factor authentication first."), code="mfa_not_enabled")
    codes = _recovery_codes_replace(user)
    audit_event_record(
        action=Action.MFA_CHANGED,
        actor=user,
        organization=user.organization,
        target=user,
        data={"change": "recovery_codes"},
    )
    notification_send(user=user, kind=Notification.Kind.RECOVERY_CODES)
    return codes


def _recovery_codes_replace(user: User) -> list[str]:
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [RecoveryCode.generate() for _ in range(settings.MFA_RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, digest=RecoveryCode.digest_of(c)) for c in codes
    )
    return codes


def _normalise_code(token: str) -> str:
    return "".join((token or "").split()).replace("-", "").upper()[:32]


def mfa_verify(*, user: User, token: str):
    """The user's device that accepts ``token`` (an authenticator code, or an unused recovery code,
    which is then spent), or ``None``. Devices throttle repeated failures themselves."""
    token = _normalise_code(token)
    if not token:
        return None
    for device in [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *RecoveryCodeDevice.objects.filter(user=user, confirmed=True),
    ]:
        if device.verify_is_allowed()[0] and device.verify_token(token):
            if isinstance(device, RecoveryCodeDevice):
                notification_send(
                    user=user, kind=Notification.Kind.RECOVERY_CODE_USED, remaining=device.remaining()
                )
            return device
    return None


def mfa_recovery_codes_remaining(user: User) -> int:
    return RecoveryCode.objects.filter(device__user=user, used_at__isnull=True).count()
