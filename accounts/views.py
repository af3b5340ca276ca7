from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.forms import ContactForm, PasswordChangeForm, ReauthenticationForm, RegistrationForm
from accounts.middleware import password_change_required
from accounts.reauth import mark_reauthenticated, reauthentication_required
from config.errors import ApplicationError


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
    page = Paginator(events, 50).get_page(request.GET.get("page"))
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
            services.organization_register(
                organization=form.organization_data(),
                owner=form.owner_data(),
                password=form.cleaned_data["password1"],
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
        services.email_verify(token=token)
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
            services.password_set(
                user=request.user, password=form.cleaned_data["password1"], actor=request.user
            )
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
            session_id = request.POST.get("session", "")
            chosen = list(sessions.filter(pk=int(session_id))) if session_id.isdigit() else []
            if not chosen:
                context = {"sessions": sessions, "current": request.session.session_key, "missing": True}
                return render(request, "accounts/sessions.html", context, status=404)
        ended = services.sessions_end(user=request.user, sessions=chosen, actor=request.user)
        messages.success(
            request,
            ngettext("%(count)d session ended.", "%(count)d sessions ended.", ended) % {"count": ended},
        )
        return redirect("session_list")
    return render(
        request, "accounts/sessions.html", {"sessions": sessions, "current": request.session.session_key}
    )


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate(request):
    form = ReauthenticationForm(request.user, request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        mark_reauthenticated(request)
        if url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(next_url)
        return redirect("profile")
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
    form = ContactForm(
        request.POST or None, initial={name: getattr(user, name) for name in services.CONTACT_FIELDS}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(user=user, actor=user, **form.cleaned_data)
        except ValidationError as error:
            by_field = error.error_dict if hasattr(error, "error_dict") else {"__all__": error.error_list}
            for field, errors in by_field.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your contact details are saved."))
            return redirect("profile")
    return render(request, "accounts/contact.html", {"form": form}, status=400 if form.errors else 200)
