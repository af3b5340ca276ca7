from rest_framework.throttling import SimpleRateThrottle

from brokers.models import OrganizationAPIKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """``API_RATE`` per API key (per user for the portal's session calls, per address otherwise)."""

    scope = "api"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, OrganizationAPIKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
