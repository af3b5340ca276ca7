import base64
import io
import time

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from accounts import selectors
from accounts.forms import (
    STRENGTH_CONTEXT_FIELDS,
    ContactForm,
    LoginForm,
    MfaCodeForm,
    PasswordChangeForm,
    ReauthenticationForm,
    RegistrationForm,
    WorkingHoursForm,
)
from accounts.middleware import password_change_required
from accounts.models import SignInEvent, User
from accounts.password_validation import password_verdict, typed_person
from accounts.reauth import (
    mark_reauthenticated,
    mark_stepped_up,
    reauthentication_required,
    reauthentication_required_for_changes,
)
from accounts.services.mfa import (
    mfa_disable,
    mfa_enabled,
    mfa_recovery_codes_regenerate,
    mfa_recovery_codes_remaining,
    mfa_required,
    mfa_totp_begin,
    mfa_totp_confirm,
    mfa_verify,
)
from accounts.services.notifications import notifications_mark_read
from accounts.services.organizations import organization_register, organization_working_hours_set
from accounts.services.passwords import password_set
from accounts.services.sessions import sessions_end
from accounts.services.signins import signin_record
from accounts.services.users import CONTACT_FIELDS, contact_update, email_verify
from core.errors import ApplicationError
from core.numbers import whole_number
from core.pagination import UncountedPage

MFA_PENDING = "accounts.mfa_pending"
MFA_PENDING_SECONDS = 300
MFA_PENDING_TRIES = 5
MFA_SETUP = "accounts.mfa_setup"


def _safe_next(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    """The password first; an account with a second factor then gives its code before it is
    signed in (the session holds only "password proved for account N", for five minutes)."""
    next_url = _safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if mfa_enabled(user):
            request.session.cycle_key()
            request.session[MFA_PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": next_url,
                "tries": 0,
            }
            return redirect("login_verify")
        auth_login(request, user)
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def wrong_second_factor(request, user, form, session_key: str, max_tries: int) -> bool:
    """A wrong code at the second step of a sign-in (the portal's or the officer console's): it is
    recorded as a failed sign-in by its factor (a stolen password shows this way), and after
    ``max_tries`` the sign-in starts over. Returns whether it must."""
    signin_record(
        user=user,
        username=user.username,
        succeeded=False,
        device_id=getattr(request, "device_id", ""),
        factor=SignInEvent.Factor.SECOND_FACTOR,
    )
    pending = request.session[session_key]
    pending["tries"] += 1
    if pending["tries"] >= max_tries:
        del request.session[session_key]
        messages.error(request, _("Too many wrong codes. Sign in again."))
        return True
    request.session[session_key] = pending
    form.add_error("code", _("That code is not right."))
    return False


@never_cache
@require_http_methods(["GET", "POST"])
def login_verify(request):
    pending = request.session.get(MFA_PENDING)
    if not pending or time.time() - pending["at"] > MFA_PENDING_SECONDS:
        request.session.pop(MFA_PENDING, None)
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True, suspended_at__isnull=True).first()
    if user is None:
        request.session.pop(MFA_PENDING, None)
        return redirect("login")
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            del request.session[MFA_PENDING]
            user.backend = pending["backend"]
            auth_login(request, user)
            django_otp.login(request, device)
            return redirect(pending["next"] or settings.LOGIN_REDIRECT_URL)
        start_over = wrong_second_factor(request, user, form, MFA_PENDING, MFA_PENDING_TRIES)
        if start_over:
            return redirect("login")
    return render(request, "accounts/login_verify.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def profile(request):
    return render(request, "accounts/profile.html", {"member": request.user})


@login_required
def signin_history(request):
    """Your own sign-ins; with ``?scope=organization`` the owner and administrators see the whole
    enterprise's."""
    whole_organization = request.GET.get("scope") == "organization"
    if whole_organization:
        events = selectors.signin_list_for_organization(viewer=request.user)
    else:
        events = selectors.signin_list_for_user(user=request.user)
    page = UncountedPage(selectors.signin_pages(events), request.GET.get("page"), 50)
    return render(
        request,
        "accounts/signin_history.html",
        {
            "page": page,
            "whole_organization": whole_organization,
            "may_see_organization": request.user.role in selectors.MANAGERS,
        },
    )


@sensitive_post_parameters("password1", "password2", "national_id_number", "legal_representative_id_number")
@require_http_methods(["GET", "POST"])
def register(request):
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization_register(
                organization=form.organization_data(),
                owner=form.owner_data(),
                password=form.cleaned_data["password1"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            return redirect("register_done")
    return render(request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200)


def register_done(request):
    return render(request, "accounts/register_done.html")


def verify_email(request, token):
    try:
        email_verify(token=token)
    except ApplicationError as error:
        return render(request, "accounts/verify_email.html", {"error": error}, status=400)
    messages.success(request, _("Your email address is verified. You can sign in."))
    return redirect("login")


@sensitive_post_parameters("current_password", "password1", "password2")
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_set(user=request.user, password=form.cleaned_data["password1"], actor=request.user)
        except ValidationError as error:
            form.add_error("password1", error)
        else:
            # The new password changes the session hash, which signs out every other session of
            # this user; this one is kept.
            update_session_auth_hash(request, request.user)
            messages.success(
                request, _("Your password has been changed. You are signed out everywhere else.")
            )
            return redirect("profile")
    context = {"form": form, "must_change": password_change_required(request.user)}
    return render(request, "accounts/password_change.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def session_list(request):
    """Your open sessions; end one, or every one but this."""
    sessions = selectors.session_list_for_user(user=request.user)
    if request.method == "POST":
        if request.POST.get("scope") == "others":
            chosen = list(sessions.exclude(session_key=request.session.session_key))
        else:
            # Only this user's sessions can be chosen: another's id is simply not found.
            session_id = whole_number(request.POST.get("session", ""))
            chosen = list(sessions.filter(pk=session_id)) if session_id is not None else []
            if not chosen:
                context = {"sessions": sessions, "current": request.session.session_key, "missing": True}
                return render(request, "accounts/sessions.html", context, status=404)
        ended = sessions_end(user=request.user, sessions=chosen, actor=request.user)
        messages.success(
            request,
            ngettext("%(count)d session ended.", "%(count)d sessions ended.", ended) % {"count": ended},
        )
        return redirect("session_list")
    return render(
        request, "accounts/sessions.html", {"sessions": sessions, "current": request.session.session_key}
    )


@sensitive_post_parameters("password", "code")
@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate(request):
    form = ReauthenticationForm(request.user, request.POST or None, mfa_enabled=mfa_enabled(request.user))
    next_url = _safe_next(request)
    if request.method == "POST" and form.is_valid():
        mark_reauthenticated(request)
        return redirect(next_url or "profile")
    return render(
        request,
        "accounts/reauthenticate.html",
        {"form": form, "next": next_url},
        status=400 if form.errors else 200,
    )


@sensitive_post_parameters("national_id_number")
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def contact_edit(request):
    user = request.user
    form = ContactForm(request.POST or None, initial={name: getattr(user, name) for name in CONTACT_FIELDS})
    if request.method == "POST" and form.is_valid():
        try:
            contact_update(user=user, actor=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Your contact details are saved."))
            return redirect("profile")
    return render(request, "accounts/contact.html", {"form": form}, status=400 if form.errors else 200)


# --- second factor ---------------------------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    # Drawn here as SVG: the secret never leaves for a QR service on the internet.
    out = io.BytesIO()
    write_qrcode_image(text, out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _recovery_codes_page(request, codes: list[str]):
    """The codes, shown this once: also as a text file to download (a data: link, so that they
    are never kept on the server to be fetched again) and a page that prints on its own."""
    text = render_to_string(
        "accounts/mfa_codes.txt", {"codes": codes, "member": request.user, "made_at": timezone.now()}
    )
    return render(request, "accounts/mfa_codes.html", {"codes": codes, "codes_text": text})


@sensitive_post_parameters("code")
@login_required
@reauthentication_required
@never_cache
@require_http_methods(["GET", "POST"])
def mfa(request):
    """Set up, replace or turn off the authenticator; new recovery codes. Recovery codes are shown
    once, in the response that makes them."""
    user = request.user
    action = request.POST.get("action", "")
    setup_device = None
    form = None
    if action == "begin":
        setup_device = mfa_totp_begin(user=user)
        request.session[MFA_SETUP] = setup_device.pk
        form = MfaCodeForm()
    elif action == "confirm":
        setup_device = TOTPDevice.objects.filter(
            pk=request.session.get(MFA_SETUP), user=user, confirmed=False
        ).first()
        if setup_device is None:
            return redirect("mfa")
        form = MfaCodeForm(request.POST)
        if form.is_valid():
            try:
                codes = mfa_totp_confirm(user=user, device=setup_device, token=form.cleaned_data["code"])
            except ApplicationError as error:
                form.add_error("code", error.detail)
            else:
                del request.session[MFA_SETUP]
                django_otp.login(request, TOTPDevice.objects.get(pk=setup_device.pk))
                return _recovery_codes_page(request, codes)
    elif action == "codes":
        try:
            codes = mfa_recovery_codes_regenerate(user=user)
        except ApplicationError as error:
            messages.error(request, error.detail)
            return redirect("mfa")
        return _recovery_codes_page(request, codes)
    elif action == "disable":
        try:
            mfa_disable(user=user, actor=user)
        except ApplicationError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, _("Two-factor authentication is off."))
        return redirect("mfa")
    context = {
        "enabled": mfa_enabled(user),
        "required": mfa_required(user),
        "remaining_codes": mfa_recovery_codes_remaining(user),
        "setup_device": setup_device,
        "form": form,
    }
    if setup_device is not None:
        context["qr"] = _qr_data_uri(setup_device.config_url)
        secret = base64.b32encode(setup_device.bin_key).decode("ascii")
        # In groups of four, as people copy it into an app by hand; apps ignore the spaces.
        context["secret"] = " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))
    status = 400 if form is not None and form.errors else 200
    return render(request, "accounts/mfa.html", context, status=status)


# --- notifications and the strength meter ----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    if request.method == "POST":
        notifications_mark_read(user=request.user)
        return redirect("notifications")
    page = Paginator(selectors.notification_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@sensitive_post_parameters("password", *STRENGTH_CONTEXT_FIELDS)
@never_cache
@require_POST
def password_strength_view(request):
    """For the meter beside a new-password field: zxcvbn's score (0-4) and the rules the password
    breaks (``password_verdict``), with the typist's own data (a signed-in user's account, or what
    the registration form holds) as context. Nothing is stored or logged; without JavaScript the
    form's own answer says the same."""
    password = request.POST.get("password", "")[: settings.PASSWORD_MAX_LENGTH + 1]
    if not password:
        return JsonResponse({"score": 0, "enough": False, "problems": []})
    typed = {name: request.POST.get(name, "")[:255] for name in STRENGTH_CONTEXT_FIELDS}
    person = request.user if request.user.is_authenticated else typed_person(typed)
    score, problems = password_verdict(password, person)
    enough = not problems and score >= settings.PASSWORD_MIN_SCORE
    return JsonResponse({"score": score, "enough": enough, "problems": problems})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def step_up(request):
    """After a risky sign-in (``StepUpMiddleware``): the authenticator code where the account has
    one (the password may be what was stolen), else the password."""
    has_mfa = mfa_enabled(request.user)
    form = ReauthenticationForm(request.user, request.POST or None, mfa_enabled=has_mfa, code_only=has_mfa)
    next_url = _safe_next(request)
    if request.method == "POST" and form.is_valid():
        mark_stepped_up(request)
        return redirect(next_url or "profile")
    return render(
        request, "accounts/step_up.html", {"form": form, "next": next_url}, status=400 if form.errors else 200
    )


@login_required
@reauthentication_required_for_changes
@require_http_methods(["GET", "POST"])
def working_hours(request):
    """The enterprise's declared working hours (owner and administrators)."""
    organization = request.user.organization
    if organization is None or not request.user.is_manager:
        raise Http404
    initial = {
        "start": organization.working_hours_start,
        "end": organization.working_hours_end,
        "days": list(organization.working_days),
        "time_zone": organization.time_zone,
    }
    form = WorkingHoursForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            organization_working_hours_set(
                organization=organization,
                actor=request.user,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                days="".join(form.cleaned_data["days"]),
                time_zone=form.cleaned_data["time_zone"],
            )
        except ApplicationError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, _("Saved: sign-ins outside these hours will be noted."))
            return redirect("working_hours")
    status = 400 if form.errors else 200
    return render(request, "accounts/working_hours.html", {"form": form}, status=status)
