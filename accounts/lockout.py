"""django-axes, tuned: separate thresholds for an account at one address and for one address
alone, and a cool-off that grows with each recent lock-out."""

from __future__ import annotations

import datetime

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Lockout
from accounts.services.signins import username_digest


class LockoutHandler(AxesDatabaseHandler):
    """Axes compares one number with one limit, so the address-alone count is scaled onto the
    account-and-address limit: ``ip_failures * L / L_ip >= L`` exactly when ``ip_failures >= L_ip``."""

    def get_failures(self, request, credentials=None) -> int:
        # One query set per entry of AXES_LOCKOUT_PARAMETERS: [username+ip, ip].
        per_account, per_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        scaled = per_address * settings.AXES_FAILURE_LIMIT // settings.LOCKOUT_IP_FAILURES
        return max(per_account, scaled)


def cool_off(request=None) -> datetime.timedelta:
    """``LOCKOUT_MINUTES``, doubled for each earlier lock-out of the same address or account
    within ``LOCKOUT_PROGRESSIVE_HOURS``, capped at ``LOCKOUT_MAX_MINUTES``."""
    base = datetime.timedelta(minutes=settings.LOCKOUT_MINUTES)
    if request is None:
        return base
    ip = getattr(request, "axes_ip_address", None)
    username = request.POST.get("username", "") if request.method == "POST" else ""
    since = timezone.now() - datetime.timedelta(hours=settings.LOCKOUT_PROGRESSIVE_HOURS)
    match = Q(username_digest=username_digest(username)) if username else Q(pk__in=[])
    if ip:
        match |= Q(ip=ip)
    earlier = Lockout.objects.filter(match, locked_at__gte=since).count()
    # The lock-out being served is itself recorded, hence one less doubling.
    doublings = min(max(earlier - 1, 0), 16)
    return min(base * 2**doublings, datetime.timedelta(minutes=settings.LOCKOUT_MAX_MINUTES))
