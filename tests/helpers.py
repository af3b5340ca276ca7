"""Signing in the way a person does: the password, then, for an account with an authenticator,
its current code; and Redis's cache made unreachable, for outage tests."""

from __future__ import annotations

import contextlib

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import TEST_PASSWORD, TEST_TOTP_KEY, totp_code

LOGIN = "/accounts/login/"


def sign_in(client, username: str, password: str = TEST_PASSWORD, **headers):
    """The response of the last step: a 302 when signed in. A code is accepted once per 30 s
    window; signing the same account in again is not the replay the rule guards against, so the
    device's memory of the last window is cleared first."""
    response = client.post(LOGIN, {"username": username, "password": password}, **headers)
    if response.status_code == 302 and response.url == reverse("login_verify"):
        TOTPDevice.objects.filter(user__username=username, key=TEST_TOTP_KEY).update(
            last_t=-1, throttling_failure_count=0
        )
        response = client.post(reverse("login_verify"), {"code": totp_code()}, **headers)
    return response


# Nothing listens on port 1: a Redis URL there fails at once, as a stopped Redis does.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@contextlib.contextmanager
def cache_unreachable(settings):
    """The default cache is a Redis nobody answers at, until the block ends."""
    from django.core.cache import caches

    healthy = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    caches.__init__()
    try:
        yield
    finally:
        settings.CACHES = healthy
        caches.__init__()
