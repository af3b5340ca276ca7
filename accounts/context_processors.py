from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts import time_zones


def password_reminder(request) -> dict:
    """A gentle reminder once the password is older than ``PASSWORD_REMINDER_DAYS`` (DESIGN §5
    rule 8: periodic change is encouraged, shown beside the account's usage history, not forced)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.password_changed_at is None:
        return {}
    days = settings.PASSWORD_REMINDER_DAYS
    if timezone.now() - user.password_changed_at < datetime.timedelta(days=days):
        return {}
    return {"password_reminder": days}


def unread_notifications(request) -> dict:
    """Counted when a template shows it: the portal's navigation does, the officer console's
    pages do not, and the count was one query on each of them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from accounts.selectors import unread_notification_count

    return {"unread_notifications": SimpleLazyObject(lambda: unread_notification_count(user=user))}


def time_zone(request) -> dict:
    """The zone every time on a page is shown in, stated once per page (in the footer) rather than
    beside each time or inside sentences."""
    name = str(timezone.get_current_timezone_name())
    return {"time_zone_name": time_zones.time_name(name), "time_zone_offset": time_zones.utc_offset(name)}
