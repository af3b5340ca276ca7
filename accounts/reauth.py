"""Asking for the password again before a sensitive action (DESIGN §5 rule 8).

The time of the last proof (the sign-in itself, or a re-entry of the password) is kept in the
session; a view decorated with ``reauthentication_required`` sends the user to confirm their
password when that proof is older than ``REAUTH_SECONDS``.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

SESSION_KEY = "accounts.reauthenticated_at"


def mark_reauthenticated(request) -> None:
    request.session[SESSION_KEY] = time.time()


def mark_stepped_up(request) -> None:
    """A step-up after a risky sign-in is also a fresh proof for sensitive actions."""
    from accounts.middleware import STEPPED_UP_KEY

    request.session[STEPPED_UP_KEY] = request.session[SESSION_KEY] = time.time()


def is_recently_authenticated(request) -> bool:
    proved_at = request.session.get(SESSION_KEY)
    return proved_at is not None and time.time() - proved_at <= settings.REAUTH_SECONDS


def reauthentication_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_recently_authenticated(request):
            return redirect(f"{reverse('reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


def reauthentication_required_for_changes(view):
    """Reading needs no fresh proof; a POST does (the user comes back to the page and submits again)."""
    guarded = reauthentication_required(view)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            return guarded(request, *args, **kwargs)
        return view(request, *args, **kwargs)

    return wrapper
