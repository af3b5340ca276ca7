"""Django's Redis cache with one client per connection pool.

Django's client builds a new ``redis.Redis`` for every cache call, and building one (its table
of response callbacks) costs more than the round trip it makes; every API call pays it twice in
the rate limit. A ``redis.Redis`` holds no per-call state and is safe to share between threads:
the pool underneath hands out the connections.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class SharedClientRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    def count_in_window(self, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
        """Adds one to ``key`` (created with ``timeout`` seconds to live) and reads ``previous_key``,
        atomically and in one round trip: a rate limit's sliding window (brokers.throttling)."""
        key, previous_key = self.make_and_validate_key(key), self.make_and_validate_key(previous_key)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=True)
        pipeline.incr(key)
        pipeline.expire(key, timeout, nx=True)
        pipeline.get(previous_key)
        count, _expiry, previous = pipeline.execute()
        return count, int(previous or 0)
