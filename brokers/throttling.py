import logging

from rest_framework.throttling import SimpleRateThrottle

from brokers.models import OrganizationAPIKey
from core.context import current_context

logger = logging.getLogger(__name__)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """``API_RATE`` per API key (per user for the portal's session calls, per address otherwise).

    Counted as a sliding window: the calls of this window plus those of the previous one, weighted
    by how much of it the last ``duration`` seconds still cover. DRF's own keeps every call's time
    in one cached list, read, rewritten and re-serialised on each call, so a call costs more the
    higher the rate; here it costs one counter increment and one read (one round trip to Redis),
    whatever the rate. A call made while limited counts too: a client that keeps calling stays
    limited.

    The counts live in the cache (Redis). If it is down the limit is not applied rather than the
    request refused: Redis is never a fact's only home, so its outage must not stop filing."""

    scope = "api"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, OrganizationAPIKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            # The address the request context took from the trusted proxies (audit.middleware.
            # client_ip), not DRF's own reading of X-Forwarded-For, which a client can write.
            ident = f"ip:{current_context().ip or request.META.get('REMOTE_ADDR')}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        try:
            return self._allow()
        except Exception as error:  # redis-py's errors are not one class: any cache failure
            logger.warning("rate limit not applied: the cache is unavailable (%s)", type(error).__name__)
            return True

    def _allow(self) -> bool:
        window, self.elapsed = divmod(self.timer(), self.duration)
        current_key, previous_key = f"{self.key}:{int(window)}", f"{self.key}:{int(window) - 1}"
        # Two windows and a second: the previous window's count is read until its successor ends.
        timeout = 2 * self.duration + 1
        if hasattr(self.cache, "count_in_window"):
            self.current, self.previous = self.cache.count_in_window(current_key, previous_key, timeout)
        else:  # another cache backend (the development default): the portable, slower way
            self.cache.add(current_key, 0, timeout)
            self.current, self.previous = self.cache.incr(current_key), self.cache.get(previous_key, 0)
        return self._estimate(self.elapsed) <= self.num_requests

    def _estimate(self, elapsed: float) -> float:
        return self.previous * (1 - elapsed / self.duration) + self.current

    def wait(self) -> float:
        """Seconds until a call would be let through, if no other call is made meanwhile."""
        allowed = self.num_requests - 1  # the next call is counted before it is judged
        if self.current <= allowed:  # the previous window's weight has to fade enough
            fading = 1 - (allowed - self.current) / max(self.previous, 1)
            return max(0.0, self.duration * fading - self.elapsed)
        # This window's calls become the previous window's and fade in the next one.
        return (self.duration - self.elapsed) + self.duration * (1 - allowed / self.current)
