"""Signing in the way a person does: the password, then, for an account with an authenticator,
its current code."""

from __future__ import annotations

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
