"""The working-hours time-zone picker: Vietnam's zone first and chosen for a new enterprise, then
the zones an enterprise trading from Vietnam would pick, each by its offset and places in the
reader's language; a zone declared before the list was short is kept."""

from __future__ import annotations

import datetime
import html
import re

import pytest
import time_machine
from django.utils import translation

from accounts.forms import WorkingHoursForm
from accounts.models import Organization
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

URL = "/accounts/working-hours/"
WINTER = datetime.datetime(2026, 1, 15, 3, 0, tzinfo=datetime.UTC)
SUMMER = datetime.datetime(2026, 7, 15, 3, 0, tzinfo=datetime.UTC)


def choices(language: str, *, stored: str = "Asia/Ho_Chi_Minh") -> list[tuple[str, str]]:
    with translation.override(language):
        return [
            (value, str(label))
            for value, label in WorkingHoursForm(initial={"time_zone": stored}).fields["time_zone"].choices
        ]


def options(page: str) -> list[tuple[str, bool, str]]:
    """The picker's options as ``(value, selected, label)``."""
    select = re.search(r'<select name="time_zone".*?</select>', page, re.S).group(0)
    return [
        (value, bool(selected), html.unescape(label))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select
        )
    ]


@pytest.mark.parametrize(
    ("language", "vietnam", "bangkok", "tokyo"),
    [
        (
            "vi",
            "(UTC+07:00) Hà Nội, TP. Hồ Chí Minh",
            "(UTC+07:00) Băng Cốc (Thái Lan)",
            "(UTC+09:00) Tokyo (Nhật Bản)",
        ),
        (
            "en",
            "(UTC+07:00) Hanoi, Ho Chi Minh City",
            "(UTC+07:00) Bangkok (Thailand)",
            "(UTC+09:00) Tokyo (Japan)",
        ),
    ],
)
def test_vietnam_comes_first_then_the_zones_people_pick_by_offset_and_places(
    language, vietnam, bangkok, tokyo
):
    with time_machine.travel(WINTER):
        listed = choices(language)
    assert listed[0] == ("Asia/Ho_Chi_Minh", vietnam)
    assert ("Asia/Bangkok", bangkok) in listed and ("Asia/Tokyo", tokyo) in listed
    assert len(listed) < 30 and "Africa/Abidjan" not in dict(listed)
    # West to east after Vietnam, and no label is a raw zone name.
    offsets = [label[4:10] for _zone, label in listed[1:]]
    assert offsets[0].startswith("-") and offsets[-1] == "+11:00"  # Los Angeles ... Sydney in its summer
    assert not any("/" in label or "_" in label for _zone, label in listed)


def test_the_offsets_are_computed_for_the_day_summer_time_included():
    with time_machine.travel(WINTER):
        winter = dict(choices("en"))
    with time_machine.travel(SUMMER):
        summer = dict(choices("en"))
    assert winter["America/New_York"].startswith("(UTC-05:00) New York")
    assert summer["America/New_York"].startswith("(UTC-04:00) New York")
    assert winter["Europe/London"].startswith("(UTC+00:00)") and summer["Europe/London"].startswith(
        "(UTC+01:00)"
    )
    assert winter["Asia/Ho_Chi_Minh"] == summer["Asia/Ho_Chi_Minh"]


def test_a_new_enterprise_sees_vietnam_chosen_and_saves_another_zone(client, trader, trader_owner):
    sign_in(client, trader_owner.username)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    first, *others = options(page)
    assert first == ("Asia/Ho_Chi_Minh", True, "(UTC+07:00) Hà Nội, TP. Hồ Chí Minh")
    assert not any(selected for _value, selected, _label in others)
    data = {"start": "08:00", "end": "17:00", "days": ["1", "2", "3", "4", "5"], "time_zone": "Asia/Tokyo"}
    assert client.post(URL, data).status_code == 302
    assert Organization.objects.get(pk=trader.pk).time_zone == "Asia/Tokyo"
    assert ("Asia/Tokyo", True, "(UTC+09:00) Tokyo (Nhật Bản)") in options(client.get(URL).content.decode())


def test_a_zone_declared_before_stays_chosen_and_can_be_saved_again(client, trader, trader_owner):
    Organization.objects.filter(pk=trader.pk).update(time_zone="Europe/Kyiv")
    sign_in(client, trader_owner.username)
    with time_machine.travel(WINTER, tick=True):
        page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ("Europe/Kyiv", True, "(UTC+02:00) Europe/Kyiv") in options(page)
    data = {"start": "08:00", "end": "17:00", "days": ["1"], "time_zone": "Europe/Kyiv"}
    assert client.post(URL, data).status_code == 302
    assert Organization.objects.get(pk=trader.pk).time_zone == "Europe/Kyiv"


def test_vietnams_old_zone_name_is_shown_as_vietnam(client, trader, trader_owner):
    Organization.objects.filter(pk=trader.pk).update(time_zone="Asia/Saigon")
    sign_in(client, trader_owner.username)
    listed = options(client.get(URL, HTTP_ACCEPT_LANGUAGE="vi").content.decode())
    assert listed[0] == ("Asia/Ho_Chi_Minh", True, "(UTC+07:00) Hà Nội, TP. Hồ Chí Minh")
    assert "Asia/Saigon" not in [value for value, _selected, _label in listed]
