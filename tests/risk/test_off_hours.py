from __future__ import annotations

import datetime

from risk.detectors import off_hours
from tests.risk.helpers import NOW, event, history, organization

HOUR = datetime.timedelta(hours=1)


def test_inside_working_hours_in_the_enterprise_time_zone_is_nothing():
    assert off_hours(event(), history()) == []  # 10:00 on a Monday in Hà Nội


def test_late_at_night_local_time_is_low():
    [finding] = off_hours(event(occurred_at=NOW + 13 * HOUR), history())  # 23:00 in Hà Nội
    assert (finding.severity, finding.params["time"], finding.params["zone"]) == (
        "low",
        "23:00",
        "Asia/Ho_Chi_Minh",
    )


def test_the_time_zone_is_the_enterprises_not_the_servers():
    # 03:00 UTC is 10:00 in Hà Nội but 22:00 the day before in New York.
    abroad = organization(time_zone="America/New_York")
    assert len(off_hours(event(organization=abroad), history())) == 1


def test_a_sunday_is_outside_unless_declared():
    sunday = NOW - datetime.timedelta(days=1)
    assert len(off_hours(event(occurred_at=sunday), history())) == 1
    seven_days = organization(working_days="1234567")
    assert off_hours(event(occurred_at=sunday, organization=seven_days), history()) == []


def test_hours_that_wrap_midnight():
    night_shift = organization(working_hours_start=datetime.time(22), working_hours_end=datetime.time(6))
    assert off_hours(event(organization=night_shift, occurred_at=NOW + 16 * HOUR), history()) == []  # 02:00
    assert len(off_hours(event(organization=night_shift), history())) == 1  # 10:00


def test_the_boundaries():
    start = NOW - 3 * HOUR  # 07:00 local: the first working minute
    assert off_hours(event(occurred_at=start), history()) == []
    assert len(off_hours(event(occurred_at=start - datetime.timedelta(seconds=1)), history())) == 1
    end = NOW + 9 * HOUR  # 19:00 local: already after hours
    assert len(off_hours(event(occurred_at=end), history())) == 1


def test_an_unknown_time_zone_falls_back_to_the_default():
    broken = organization(time_zone="Mars/Olympus_Mons")
    assert off_hours(event(organization=broken), history()) == []


def test_officers_and_failures_are_not_judged():
    late = NOW + 13 * HOUR
    assert off_hours(event(organization=None, occurred_at=late), history()) == []
    assert off_hours(event(outcome="failed", occurred_at=late), history()) == []


def test_the_day_reads_in_the_readers_language():
    from django.utils import translation

    from accounts.reasons import reason_text

    sunday = NOW - datetime.timedelta(days=1)
    [finding] = off_hours(event(occurred_at=sunday), history())
    reason = finding.as_reason()
    assert reason["params"]["day"] == "Sunday"  # stored once, in English
    with translation.override("vi"):
        assert "Chủ nhật" in reason_text(reason) and "Sunday" not in reason_text(reason)
        assert "Chủ nhật" in finding.sentence()
    with translation.override("en"):
        assert "Sunday" in reason_text(reason)


def test_the_stored_reason_says_what_the_english_sentence_says():
    # The flag's explanation is taken from the reason (risk.services.evaluation._findings_record), also
    # while another language is active.
    from django.utils import translation

    sunday = NOW - datetime.timedelta(days=1)
    [finding] = off_hours(event(occurred_at=sunday), history())
    with translation.override("vi"):
        assert finding.as_reason()["message"] == finding.sentence_en()
        assert "Sunday" in finding.sentence_en()
