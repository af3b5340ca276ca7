"""The hourly sweep that suspends member accounts nobody has used for a long time."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from audit.models import Action
from audit.services.events import audit_event_record


def _now() -> datetime.datetime:
    return timezone.now()


def accounts_suspend_inactive(*, now: datetime.datetime | None = None) -> int:
    """Suspend every active member account unused for ``ACCOUNT_INACTIVITY_DAYS`` (last sign-in,
    or creation if never), each with its ``user.suspended`` event. Officers are not included:
    their console has its own rules. Idempotent; returns how many were suspended."""
    now = now or _now()
    cutoff = now - datetime.timedelta(days=settings.ACCOUNT_INACTIVITY_DAYS)
    stale = (
        User.objects.filter(is_active=True, suspended_at__isnull=True, organization__isnull=False)
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .values_list("pk", flat=True)
    )
    suspended = 0
    for pk in list(stale):
        with transaction.atomic():
            # Claimed with a conditional update, so two sweeps never suspend (or record) twice.
            claimed = User.objects.filter(pk=pk, suspended_at__isnull=True).update(
                suspended_at=now, suspension_reason="inactivity"
            )
            if not claimed:
                continue
            user = User.objects.get(pk=pk)
            audit_event_record(
                action=Action.USER_SUSPENDED,
                actor=None,
                organization=user.organization,
                target=user,
                data={"reason": "inactivity", "days": settings.ACCOUNT_INACTIVITY_DAYS},
            )
            suspended += 1
    return suspended
