"""Signing in at the officer console the way an officer does: password, then the current code."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import TEST_PASSWORD, TEST_TOTP_KEY, OfficerFactory, totp_code

CONSOLE_LOGIN = "/officers/login/"
CONSOLE_VERIFY = "/officers/login/verify/"


def console_sign_in(client, username: str, password: str = TEST_PASSWORD):
    response = client.post(CONSOLE_LOGIN, {"username": username, "password": password})
    if response.status_code == 302 and response.url == CONSOLE_VERIFY:
        TOTPDevice.objects.filter(user__username=username, key=TEST_TOTP_KEY).update(
            last_t=-1, throttling_failure_count=0
        )
        response = client.post(CONSOLE_VERIFY, {"code": totp_code()})
    return response


def officer_in(*groups: str, **kwargs):
    from audit.services.officer_groups_pending import officer_group_set

    officer = OfficerFactory(**kwargs)
    officer_group_set(officer=officer, groups=list(groups))
    return officer
