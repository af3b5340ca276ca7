from __future__ import annotations

import datetime
import secrets
from urllib.parse import quote

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.services.mfa import mfa_enabled, mfa_required

DEVICE_COOKIE = "csg_device"
DEVICE_COOKIE_SALT = "accounts.device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600


class DeviceCookieMiddleware:
    """Gives every browser a long-lived, signed, HttpOnly device id, so sign-ins can tell a device
    seen before from a new one (DESIGN §4). A tampered or missing cookie gets a fresh id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        device_id = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_COOKIE_SALT)
        fresh = device_id is None or len(device_id) != 32
        request.device_id = secrets.token_hex(16) if fresh else device_id
        response = self.get_response(request)
        if fresh:
            response.set_signed_cookie(
                DEVICE_COOKIE,
                request.device_id,
                salt=DEVICE_COOKIE_SALT,
                max_age=DEVICE_COOKIE_AGE,
                httponly=True,
                secure=settings.SESSION_COOKIE_SECURE,
                samesite="Lax",
            )
        return response


def password_change_required(user) -> bool:
    """Evidence of compromise (a breach-corpus match, an abuse report) marks the account; where
    ``PASSWORD_MAX_AGE_DAYS`` is set, a password older than that counts too."""
    if user.must_change_password:
        return True
    if settings.PASSWORD_MAX_AGE_DAYS and user.password_changed_at is not None:
        return timezone.now() - user.password_changed_at > datetime.timedelta(
            days=settings.PASSWORD_MAX_AGE_DAYS
        )
    return False


def _first_this(request, page: str, code: str, detail: str):
    """Where the portal sends the account first; the API (a session's call) answers 403 with
    ``code`` instead, as JSON, not a redirect to a page a client cannot follow."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "detail": detail, "fields": {}}, status=403)
    return redirect(page)


class MustChangePasswordMiddleware:
    """An account that must change its password does so before anything else; signing out and
    static files stay reachable."""

    ALLOWED = ("password_change", "logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and password_change_required(user):
            allowed = [reverse(name) for name in self.ALLOWED]
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                return _first_this(
                    request, "password_change", "password_change_required",
                    gettext("Change your password in the portal first."),
                )  # fmt: skip
        return self.get_response(request)


class MfaEnrolmentMiddleware:
    """Officers and the roles in ``MFA_REQUIRED_ROLES`` set up an authenticator before anything
    else. (Once set up, the sign-in page itself asks every such account for its code.)"""

    ALLOWED = ("mfa", "logout", "set_language", "password_change", "reauthenticate")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and mfa_required(user)
            and not _verified_by_authenticator(user)
            and not mfa_enabled(user)
        ):
            allowed = [reverse(name) for name in self.ALLOWED]
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                return _first_this(
                    request, "mfa", "mfa_required", gettext("Set up your authenticator in the portal first.")
                )
        return self.get_response(request)


def _verified_by_authenticator(user) -> bool:
    """django_otp's middleware has loaded the authenticator that verified this session (confirmed,
    the user's own): one is set up, which spares every page of these roles a query."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return isinstance(getattr(user, "otp_device", None), TOTPDevice)


STEPPED_UP_KEY = "accounts.stepped_up_at"


class StepUpMiddleware:
    """After a risky sign-in the risk engine sets ``step_up_required_at`` (``RISK_RESPONSES``):
    every session of the account then proves itself again - the authenticator code where there is
    one - before anything else. The proof of signing in does not count: it may be the risky
    sign-in itself."""

    ALLOWED = ("step_up", "logout", "set_language", "signin_review")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        required_at = getattr(user, "step_up_required_at", None) if user is not None else None
        if required_at is not None and user.is_authenticated and hasattr(request, "session"):
            proved_at = request.session.get(STEPPED_UP_KEY, 0)
            if proved_at < required_at.timestamp() and not request.path.startswith(settings.STATIC_URL):
                try:
                    name = resolve(request.path_info).url_name
                except Resolver404:
                    name = None
                if name not in self.ALLOWED:
                    page = f"{reverse('step_up')}?next={quote(request.get_full_path())}"
                    detail = gettext(
                        "Confirm it is you in the portal first: a sign-in to this account looked unusual."
                    )
                    return _first_this(request, page, "step_up_required", detail)
        return self.get_response(request)
