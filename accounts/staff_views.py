"""Portal pages of an enterprise's people: the staff list, invitations (sent and accepted), one
person's role, reactivation and deactivation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors
from accounts.forms import InvitationAcceptForm, RoleForm, StaffInviteForm
from accounts.models import User
from accounts.reauth import reauthentication_required
from accounts.services import staff as staff_services
from accounts.services.users import user_reactivate
from core.errors import ApplicationError


def _require_manager(request) -> None:
    if not request.user.is_manager:
        raise PermissionDenied


def _grantable_roles(actor: User) -> list[User.Role]:
    if actor.role == User.Role.OWNER:
        return list(User.STAFF_ROLES)
    return [role for role in User.STAFF_ROLES if role != User.Role.ADMINISTRATOR]


@login_required
def staff(request):
    _require_manager(request)
    return render(
        request,
        "accounts/staff.html",
        {
            "members": selectors.staff_list(viewer=request.user),
            "invitations": selectors.invitation_list(viewer=request.user),
        },
    )


@sensitive_post_parameters("national_id_number")
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def staff_invite(request):
    _require_manager(request)
    form = StaffInviteForm(request.POST or None, roles=_grantable_roles(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            invitation = staff_services.staff_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request, _("The invitation was sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("staff")
    return render(request, "accounts/staff_invite.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def staff_invitation_cancel(request, pk: int):
    _require_manager(request)
    invitation = selectors.invitation_list(viewer=request.user).filter(pk=pk).first()
    if invitation is None:
        raise Http404
    staff_services.invitation_cancel(invitation=invitation, actor=request.user)
    messages.success(request, _("The invitation was cancelled."))
    return redirect("staff")


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def staff_member(request, pk: int):
    """One person of the enterprise: change their role or reactivate them here; deactivating has
    its own page (``staff_deactivate``), which says what will happen first."""
    _require_manager(request)
    member = selectors.staff_member(viewer=request.user, pk=pk)
    if member is None:
        raise Http404
    roles = _grantable_roles(request.user)
    action = request.POST.get("action")
    # Bound only for its own action, so that another action's POST shows no role error.
    form = RoleForm(request.POST if action == "role" else None, roles=roles, initial={"role": member.role})
    if request.method == "POST":
        try:
            if action == "role" and form.is_valid():
                staff_services.member_role_change(
                    member=member, role=form.cleaned_data["role"], actor=request.user
                )
                messages.success(request, _("The role was changed."))
            elif action == "reactivate":
                user_reactivate(user=member, actor=request.user)
                messages.success(request, _("The account was reactivated."))
            else:
                return render(
                    request, "accounts/staff_member.html", {"member": member, "form": form}, status=400
                )
        except ApplicationError as error:
            messages.error(request, error.detail)
            context = {"member": member, "form": form}
            return render(request, "accounts/staff_member.html", context, status=error.status_code)
        return redirect("staff_member", pk=member.pk)
    return render(request, "accounts/staff_member.html", {"member": member, "form": form})


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def staff_deactivate(request, pk: int):
    """Deactivate one person: the GET page says what will happen, its POST does it."""
    _require_manager(request)
    member = selectors.staff_member(viewer=request.user, pk=pk)
    if member is None or not member.is_active:
        raise Http404
    if request.method == "POST":
        try:
            staff_services.member_deactivate(member=member, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.detail)
            return render(
                request, "accounts/staff_deactivate.html", {"member": member}, status=error.status_code
            )
        messages.success(request, _("The account was deactivated and its sessions ended."))
        return redirect("staff_member", pk=member.pk)
    return render(request, "accounts/staff_deactivate.html", {"member": member})


@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    try:
        invitation = staff_services.invitation_read(token=token)
    except ApplicationError as error:
        return render(request, "accounts/invitation_invalid.html", {"error": error}, status=400)
    form = InvitationAcceptForm(request.POST or None)
    # The meter in the answer judges with the person's and the enterprise's data, as the service will.
    form.strength_user = User(
        username=request.POST.get("username", "")[:150],
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        email=invitation.email,
        national_id_number=invitation.national_id_number,
        organization=invitation.organization,
    )
    if request.method == "POST" and form.is_valid():
        try:
            staff_services.invitation_accept(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
        except ApplicationError as error:
            return render(request, "accounts/invitation_invalid.html", {"error": error}, status=400)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Your account is ready. Sign in with your new username."))
            return redirect("login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=400 if form.errors else 200,
    )
