from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import RegistrationForm
from config.errors import ApplicationError


@login_required
def profile(request):
    return render(request, "accounts/profile.html", {"member": request.user})


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
