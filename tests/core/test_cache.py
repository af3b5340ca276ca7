"""The Redis cache keeps one client per connection pool (core.cache) and still behaves as Django's
own: the same values, the same answers to add and incr, from several threads at once."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings

from core.cache import RedisCache


@pytest.fixture
def redis_cache():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (a real Redis)")
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "csg-test-cache", "TIMEOUT": 60})
    cache.clear()
    yield cache
    cache.clear()


def test_one_client_serves_every_call(redis_cache):
    assert redis_cache._cache.get_client(write=True) is redis_cache._cache.get_client(write=False)
    assert redis_cache.add("once", 1) is True and redis_cache.add("once", 2) is False
    redis_cache.set("value", {"a": [1, 2]})
    assert redis_cache.get("value") == {"a": [1, 2]} and redis_cache.get("missing", "default") == "default"
    assert redis_cache.incr("once", 5) == 6


def test_threads_sharing_the_client_count_every_increment(redis_cache):
    redis_cache.set("counter", 0)
    errors = []

    def bump():
        try:
            for _ in range(200):
                redis_cache.incr("counter")
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and redis_cache.get("counter") == 800
