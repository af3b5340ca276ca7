"""The enterprise declares its working hours, which the ``off_hours`` detector compares with."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Organization
from accounts.services.organizations import organization_working_hours_set
from audit.models import AuditEvent
from core.errors import ApplicationError
from risk.detectors import off_hours
from tests.helpers import sign_in
from tests.risk.helpers import NOW, event, history

pytestmark = pytest.mark.django_db

URL = "/accounts/working-hours/"


def test_the_owner_declares_a_night_shift_and_the_detector_follows(client, trader, trader_owner):
    sign_in(client, trader_owner.username)
    assert client.get(URL).status_code == 200
    response = client.post(
        URL,
        {"start": "22:00", "end": "06:00", "days": ["1", "2", "3", "4", "5"], "time_zone": "Asia/Bangkok"},
    )
    assert response.status_code == 302
    trader.refresh_from_db()
    assert (trader.working_hours_start, trader.working_hours_end) == (datetime.time(22), datetime.time(6))
    assert (trader.working_days, trader.time_zone) == ("12345", "Asia/Bangkok")
    event_ = AuditEvent.objects.get(action="organization.settings_changed")
    assert event_.data == {
        "working_hours": "22:00-06:00",
        "working_days": "12345",
        "time_zone": "Asia/Bangkok",
    }
    # 02:00 on a Tuesday in Bangkok is now within the declared hours; 10:00 is not.
    tuesday_night = datetime.datetime(
        2026, 11, 24, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7))
    )
    assert off_hours(event(organization=trader, occurred_at=tuesday_night), history()) == []
    assert len(off_hours(event(organization=trader, occurred_at=NOW), history())) == 1


@pytest.mark.parametrize(
    "data",
    [
        {"start": "08:00", "end": "17:00", "days": [], "time_zone": "Asia/Ho_Chi_Minh"},
        {"start": "08:00", "end": "08:00", "days": ["1"], "time_zone": "Asia/Ho_Chi_Minh"},
        {"start": "08:00", "end": "17:00", "days": ["1"], "time_zone": "Mars/Olympus_Mons"},
        {"start": "25:00", "end": "17:00", "days": ["1"], "time_zone": "Asia/Ho_Chi_Minh"},
        {"start": "08:00", "end": "17:00", "days": ["8"], "time_zone": "Asia/Ho_Chi_Minh"},
    ],
)
def test_bad_input_changes_nothing(client, trader, trader_owner, data):
    sign_in(client, trader_owner.username)
    assert client.post(URL, data).status_code == 400
    trader.refresh_from_db()
    assert (trader.working_hours_start, trader.working_days) == (datetime.time(7), "123456")
    assert not AuditEvent.objects.filter(action="organization.settings_changed").exists()


def test_only_the_enterprise_managers_declare_them(client, trader, trader_signer, outsider):
    sign_in(client, trader_signer.username)
    assert client.get(URL).status_code == 404
    with pytest.raises(ApplicationError) as refused:
        organization_working_hours_set(
            organization=trader, actor=outsider, start=datetime.time(8), end=datetime.time(17),
            days="12345", time_zone="Asia/Ho_Chi_Minh",
        )  # fmt: skip
    assert refused.value.code == "not_allowed"
    assert Organization.objects.get(pk=trader.pk).working_days == "123456"


def test_a_change_asks_for_a_fresh_proof_of_identity(client, trader_owner, settings):
    settings.REAUTH_SECONDS = 300
    sign_in(client, trader_owner.username)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=301)):
        response = client.post(
            URL, {"start": "08:00", "end": "17:00", "days": ["1"], "time_zone": "Asia/Ho_Chi_Minh"}
        )
        assert response["Location"].startswith("/accounts/reauthenticate/")
    assert Organization.objects.get(pk=trader_owner.organization_id).working_days == "123456"
