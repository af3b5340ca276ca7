"""The API's rate limit (brokers.throttling): a sliding window over two counters, the same on
Django's in-memory cache and on Redis (one atomic round trip there), exact under concurrent calls."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache

from brokers.throttling import ApiKeyRateThrottle
from core.cache import RedisCache


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _locmem():
    cache = LocMemCache("throttle-test", {})  # a LocMemCache's storage is shared by name
    cache.clear()
    return cache


def _redis():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (a real Redis)")
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "csg-test-throttle"})
    cache.clear()
    return cache


@pytest.fixture(params=[_locmem, _redis], ids=["locmem", "redis"])
def cache(request):
    return request.param()


def _throttle(cache, clock: Clock, rate: str = "10/min", ident: str = "key:abc") -> ApiKeyRateThrottle:
    class Throttle(ApiKeyRateThrottle):
        THROTTLE_RATES = {"api": rate}
        timer = clock

        def get_cache_key(self, request, view):
            return f"throttle_api_{ident}"

    throttle = Throttle()
    throttle.cache = cache
    return throttle


def _calls(cache, clock, count: int, **kwargs) -> list[bool]:
    return [_throttle(cache, clock, **kwargs).allow_request(None, None) for _ in range(count)]


def test_the_limit_holds_within_a_window_and_is_per_key(cache):
    clock = Clock(6_000_000.0)  # the start of a window (a multiple of 60)
    assert _calls(cache, clock, 11) == [True] * 10 + [False]
    assert _calls(cache, clock, 1, ident="key:other") == [True]


def test_the_previous_window_counts_as_much_as_it_still_overlaps(cache):
    clock = Clock(6_000_000.0)
    assert _calls(cache, clock, 10) == [True] * 10
    clock.now += 90  # half-way into the next window: the 10 previous calls weigh 5
    assert _calls(cache, clock, 6) == [True] * 5 + [False]
    clock.now += 60 * 2  # two windows later nothing is remembered
    assert _calls(cache, clock, 10) == [True] * 10


@pytest.mark.parametrize("started", [0.0, 30.0, 59.0])
def test_retry_after_is_when_a_call_goes_through_again(cache, started):
    """A call made while limited counts too, so each probe runs in a world of its own."""

    def limited_world(ident: str) -> tuple[Clock, float]:
        clock = Clock(6_000_000.0 + started)
        assert _calls(cache, clock, 11, ident=ident) == [True] * 10 + [False]
        throttle = _throttle(cache, clock, ident=ident)
        assert throttle.allow_request(None, None) is False
        return clock, throttle.wait()

    clock, wait = limited_world("key:early")
    assert 0 < wait <= 120
    clock.now += wait - 0.5
    assert _calls(cache, clock, 1, ident="key:early") == [False]
    clock, wait = limited_world("key:on-time")
    clock.now += wait + 0.01
    assert _calls(cache, clock, 1, ident="key:on-time") == [True]


def test_concurrent_calls_let_exactly_the_limit_through():
    cache = _redis()
    clock = Clock(6_000_000.0)
    allowed, lock = [], threading.Lock()

    def call_many():
        results = _calls(cache, clock, 50, rate="100/min")
        with lock:
            allowed.extend(results)

    threads = [threading.Thread(target=call_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 100 and allowed.count(False) == 100


def test_retry_after_when_the_previous_window_is_what_limits(cache):
    def limited_world(ident: str) -> tuple[Clock, float]:
        clock = Clock(6_000_059.0)
        assert _calls(cache, clock, 10, ident=ident) == [True] * 10
        clock.now += 2  # one second into the next window: the previous 10 still weigh 9.83
        throttle = _throttle(cache, clock, ident=ident)
        assert throttle.allow_request(None, None) is False and throttle.current == 1
        return clock, throttle.wait()

    clock, wait = limited_world("key:early")
    assert 0 < wait < 60
    clock.now += wait - 0.5
    assert _calls(cache, clock, 1, ident="key:early") == [False]
    clock, wait = limited_world("key:on-time")
    clock.now += wait + 0.01
    assert _calls(cache, clock, 1, ident="key:on-time") == [True]
