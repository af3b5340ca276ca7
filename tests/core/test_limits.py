"""core.limits.SlidingLimit: a sliding minute of counts per caller, and no limit with the cache down."""

from __future__ import annotations

import time_machine

from core.limits import SlidingLimit
from tests.helpers import cache_unreachable

LIMIT = SlidingLimit("test-limit", lambda: 4)


def test_the_previous_minute_counts_as_much_as_it_still_overlaps():
    with time_machine.travel("2030-01-01 00:00:50 +00:00", tick=False):
        LIMIT.reset("a")
        for _ in range(4):
            LIMIT.count("a")
        assert LIMIT.wait("a") == 10  # four in this minute: limited until it ends
        assert LIMIT.wait("b") is None  # per caller
    with time_machine.travel("2030-01-01 00:01:15 +00:00", tick=False):
        assert LIMIT.wait("a") is None  # 4 x 0.75 of the previous minute + 0 = 3, under 4
        LIMIT.count("a")
        assert LIMIT.wait("a") == 45  # 3 + 1: limited until this minute ends


def test_with_the_cache_down_nothing_is_limited_and_a_warning_is_logged(settings, caplog):
    with cache_unreachable(settings):
        LIMIT.count("c")
        assert LIMIT.wait("c") is None
    assert "test-limit not counted: the cache is unavailable" in caplog.text
    assert "test-limit not limited: the cache is unavailable" in caplog.text
