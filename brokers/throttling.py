import logging

from rest_framework.throttling import SimpleRateThrottle

from brokers.models import OrganizationAPIKey

logger = logging.getLogger(__name__)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """``API_RATE`` per API key (per user for the portal's session calls, per address otherwise).

    The counts live in the cache (Redis). If it is down the limit is not applied rather than the
    request refused: Redis is never a fact's only home, so its outage must not stop filing."""

    scope = "api"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, OrganizationAPIKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as error:  # redis-py's errors are not one class: any cache failure
            logger.warning("rate limit not applied: the cache is unavailable (%s)", type(error).__name__)
            return True
