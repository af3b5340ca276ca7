"""The time zones the portal names in words: the footer's "Times are shown in Vietnam time", and
the enterprise's working-hours picker, Vietnam's first, then the zones an enterprise trading from
Vietnam would pick, each as "(UTC+07:00) Hà Nội, TP. Hồ Chí Minh". Offsets are computed from the
zone database at the time shown (a zone with summer time shows today's), never written down."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

VIETNAM = "Asia/Ho_Chi_Minh"

# Other names of the same zone (IANA keeps the old one as a link).
ALIASES = {"Asia/Saigon": VIETNAM}

# What people call a time in the zone; any other zone is named by the places it covers.
TIME_NAMES: dict[str, Promise] = {VIETNAM: _("Vietnam time")}

# The zones an enterprise in Vietnam would pick (its own, its neighbours', its trading partners'),
# by the places people know them by.
PLACES: dict[str, Promise] = {
    VIETNAM: _("Hanoi, Ho Chi Minh City"),
    "Asia/Bangkok": _("Bangkok (Thailand)"),
    "Asia/Phnom_Penh": _("Phnom Penh (Cambodia)"),
    "Asia/Vientiane": _("Vientiane (Laos)"),
    "Asia/Jakarta": _("Jakarta (Indonesia)"),
    "Asia/Yangon": _("Yangon (Myanmar)"),
    "Asia/Singapore": _("Singapore"),
    "Asia/Kuala_Lumpur": _("Kuala Lumpur (Malaysia)"),
    "Asia/Manila": _("Manila (Philippines)"),
    "Asia/Shanghai": _("Beijing, Shanghai (China)"),
    "Asia/Hong_Kong": _("Hong Kong"),
    "Asia/Taipei": _("Taipei"),
    "Asia/Seoul": _("Seoul (Korea)"),
    "Asia/Tokyo": _("Tokyo (Japan)"),
    "Australia/Sydney": _("Sydney, Canberra (Australia)"),
    "Asia/Kolkata": _("New Delhi, Mumbai (India)"),
    "Asia/Dubai": _("Dubai (United Arab Emirates)"),
    "Europe/Moscow": _("Moscow (Russia)"),
    "Europe/Paris": _("Paris, Berlin, Amsterdam"),
    "Europe/London": _("London (United Kingdom)"),
    "UTC": _("Coordinated Universal Time"),
    "America/New_York": _("New York, Washington (United States)"),
    "America/Los_Angeles": _("Los Angeles, San Francisco (United States)"),
}


def canonical(zone: str) -> str:
    return ALIASES.get(zone, zone)


def offset_text(moment: datetime.datetime) -> str:
    """An aware moment's offset from UTC, as ``+07:00``."""
    offset = moment.strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def utc_offset(zone: str, at: datetime.datetime | None = None) -> str:
    """The zone's offset from UTC at ``at`` (now by default), as ``+07:00``."""
    return offset_text((at or timezone.now()).astimezone(zoneinfo.ZoneInfo(zone)))


def time_name(zone: str) -> str:
    """What a time in the zone is called ("Vietnam time"), else its IANA name."""
    return str(TIME_NAMES.get(canonical(zone), zone))


def zone_label(zone: str, at: datetime.datetime | None = None) -> str:
    """ "(UTC+07:00) Hà Nội, TP. Hồ Chí Minh" in the reader's language; a zone not in the list by
    its IANA name."""
    return f"(UTC{utc_offset(zone, at)}) {PLACES.get(canonical(zone), zone)}"


def zone_choices(*, keep: str = "", at: datetime.datetime | None = None) -> list[tuple[str, str]]:
    """The picker's choices: Vietnam's zone first, then the others from west to east (by today's
    offset), alphabetically within an offset. ``keep`` (the zone stored before, if it is none of
    these) is among them too, named by its IANA name."""
    at = at or timezone.now()
    zones = [zone for zone in PLACES if zone != VIETNAM]
    if keep and canonical(keep) not in PLACES and keep in zoneinfo.available_timezones():
        zones.append(keep)
    labelled = [(zone, zone_label(zone, at)) for zone in zones]
    offset = {zone: at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() for zone in zones}
    labelled.sort(key=lambda choice: (offset[choice[0]], choice[1]))
    return [(VIETNAM, zone_label(VIETNAM, at)), *labelled]
