"""The officer console's sign-in (``/officers/login/``): the password, then the second factor.

``officers.site.OfficerSite`` serves these as its login pages. The session then carries
``OFFICER_SESSION`` and django-otp's verification; the request path puts the sign-in records on the
``officers`` channel. Officers always have a second factor: one without gets sent to set it up.
"""

from __future__ import annotations

import time

import django_otp
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import MfaCodeForm
from accounts.services.mfa import mfa_enabled, mfa_verify
from accounts.services.signins import signin_record
from accounts.views import wrong_second_factor

OFFICER_SESSION = "officers.signed_in"
PENDING = "officers.mfa_pending"
PENDING_SECONDS = 300
PENDING_TRIES = 5


def is_console_session(request) -> bool:
    """An active officer who signed in at the console, with the second factor, in this session."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not getattr(user, "is_officer", False) or user.suspended_at is not None:
        return False
    verified = getattr(user, "is_verified", None)
    if verified is None or not verified():
        return False
    return request.session.get(OFFICER_SESSION) == user.pk


class OfficerAuthenticationForm(AuthenticationForm):
    """The password step. A non-officer gets the same answer as a wrong password, so the console
    does not tell which accounts exist or what they are."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not getattr(user, "is_officer", False):
            signin_record(user=user, username=user.get_username(), succeeded=False)
            raise self.get_invalid_login_error()


@sensitive_post_parameters("password")
@never_cache
def console_login(request, *, site):
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(reverse("officers:index", current_app=site.name))
    form = OfficerAuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if not mfa_enabled(user):
            # Officers always have a second factor; the portal makes them set one up first.
            form.add_error(
                None,
                gettext("Set up your authenticator in the portal first, then sign in here."),
            )
        else:
            request.session.cycle_key()
            request.session[PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "tries": 0,
                "next": _safe_next(request),
            }
            return redirect("officers:login_verify")
    context = {
        **site.each_context(request),
        "title": _("Sign in"),
        "form": form,
        "next": _safe_next(request),
    }
    request.current_app = site.name
    return TemplateResponse(request, site.login_template, context, status=400 if form.errors else 200)


@never_cache
def console_login_verify(request, *, site):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return redirect("officers:login")
    user = (
        get_user_model().objects.filter(pk=pending["user"], is_active=True, suspended_at__isnull=True).first()
    )
    if user is None or not user.is_officer:
        request.session.pop(PENDING, None)
        return redirect("officers:login")
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            del request.session[PENDING]
            user.backend = pending["backend"]
            auth_login(request, user)  # records the sign-in (channel "officers")
            django_otp.login(request, device)
            request.session[OFFICER_SESSION] = user.pk
            return redirect(pending["next"] or reverse("officers:index"))
        if wrong_second_factor(request, user, form, PENDING, PENDING_TRIES):
            return redirect("officers:login")
    context = {**site.each_context(request), "title": _("Your second factor"), "form": form}
    request.current_app = site.name
    return TemplateResponse(
        request, "officers/login_verify.html", context, status=400 if form.errors else 200
    )


def _safe_next(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url.startswith("/officers/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ):
        return next_url
    return ""
