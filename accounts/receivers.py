"""Django's authentication signals, turned into sign-in records (one service call each)."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.lockout import cool_off
from accounts.reauth import mark_reauthenticated
from accounts.services.sessions import session_forget, session_open
from accounts.services.signins import lockout_record, signin_record


@receiver(user_logged_in, dispatch_uid="accounts.signin_succeeded")
def _signin_succeeded(sender, request, user, **_kwargs) -> None:
    device_id = getattr(request, "device_id", "")
    signin_record(user=user, username=user.get_username(), succeeded=True, device_id=device_id)
    if request is not None and getattr(request, "session", None) is not None:
        mark_reauthenticated(request)  # the password was just proved
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        session_open(user=user, session_key=request.session.session_key, device_id=device_id)


@receiver(user_logged_out, dispatch_uid="accounts.signed_out")
def _signed_out(sender, request=None, user=None, **_kwargs) -> None:
    if request is not None and getattr(request, "session", None) is not None:
        session_forget(session_key=request.session.session_key)


@receiver(user_login_failed, dispatch_uid="accounts.signin_failed")
def _signin_failed(sender, credentials, request=None, **_kwargs) -> None:
    username = credentials.get("username", "") or ""
    user = get_user_model().objects.filter(username=username).first() if username else None
    signin_record(user=user, username=username, succeeded=False, device_id=getattr(request, "device_id", ""))


@receiver(user_locked_out, dispatch_uid="accounts.locked_out")
def _locked_out(sender, request=None, username=None, ip_address=None, **_kwargs) -> None:
    lockout_record(username=username or "", ip=ip_address, cool_off=cool_off(request))
