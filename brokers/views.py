"""Portal pages: the public broker directory, mandates, API keys, and the brokerage licence with its
agents."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.reauth import reauthentication_required
from brokers import selectors
from brokers.forms import (
    AgentProposalForm,
    ApiKeyForm,
    DirectorySearchForm,
    GrantForm,
    InviteForm,
    LicenceApplicationForm,
)
from brokers.models import AgentProposal, Authorization, LicenceApplication, OrganizationAPIKey
from brokers.services.agents import agent_leave
from brokers.services.api_keys import api_key_create, api_key_revoke
from brokers.services.licensing import agent_propose, licence_application_submit
from brokers.services.mandate_codes import mandate_code_cancel, mandate_code_issue
from brokers.services.mandates import (
    authorization_accept,
    authorization_cancel,
    authorization_decline,
    authorization_grant,
    authorization_invite,
    authorization_revoke,
)
from core.errors import ApplicationError
from core.numbers import whole_number
from core.pagination import UncountedPage

DIRECTORY_PAGE_SIZE = 25


def directory(request):
    """Anyone may look a broker up (no sign-in): name, tax code, licence, province, status."""
    form = DirectorySearchForm(request.GET or None)
    query = province = ""
    if form.is_valid():
        query, province = form.cleaned_data["q"], form.cleaned_data["province"]
    # Previous and next links without counting the matches: the count read all 2,000 brokers
    # again, as long as the page itself (bench/scale.py).
    page = UncountedPage(
        selectors.broker_directory(query=query, province=province),
        request.GET.get("page"),
        DIRECTORY_PAGE_SIZE,
    )
    # Decided once for the page, not per row in the template: "give a mandate" is for a trader's
    # owner or administrator.
    user = request.user
    can_grant = user.is_authenticated and user.is_manager and user.organization.kind == "trader"
    context = {"form": form, "page": page, "can_grant": can_grant, "can_apply": can_grant}
    return render(request, "brokers/directory.html", context)


def _apply(form, error: ApplicationError) -> int:
    fields = [name for name in error.fields if name in form.fields]
    form.add_error(fields[0] if fields else None, f"{error.detail} ({error.code})")
    return error.status_code


def mandate_actions_for(mandate: Authorization, user) -> list[str]:
    """What the viewer's side may do with the mandate now: the party that proposed it may cancel
    it, the other accept or decline it; either party may revoke it once it is live."""
    if not user.is_manager or user.organization is None:
        return []
    if mandate.status == Authorization.Status.INVITED:
        return ["cancel"] if mandate.initiated_by == user.organization.kind else ["accept", "decline"]
    if mandate.status in (Authorization.Status.ACTIVE, Authorization.Status.SUSPENDED):
        return ["revoke"]
    return []


@login_required
def mandate_list(request):
    today = timezone.localdate()
    mandates = [
        (mandate, mandate_actions_for(mandate, request.user), mandate.not_yet_in_force(today))
        for mandate in selectors.mandate_list(viewer=request.user)
    ]
    return render(request, "brokers/mandates.html", {"mandates": mandates})


@login_required
@require_http_methods(["GET"])
def mandate_confirm(request, pk: int):
    """The page before accepting, declining, cancelling or revoking a mandate: what will happen,
    to whom; its form posts to ``mandate_action``. A GET changes nothing."""
    mandate = selectors.mandate_for_viewer(viewer=request.user, pk=pk)
    action = request.GET.get("action", "")
    if mandate is None or action not in mandate_actions_for(mandate, request.user):
        raise Http404
    other_party = mandate.broker if mandate.trader_id == request.user.organization_id else mandate.trader
    return render(
        request,
        "brokers/mandate_confirm.html",
        {"mandate": mandate, "action": action, "other_party": other_party},
    )


def _mandate_check(request, form, *, granting: bool, broker=None):
    """ "Check your answers" before a mandate is offered: what the other party will be allowed
    to do, with every answer carried in hidden fields so that it works without JavaScript."""
    return render(
        request,
        "brokers/mandate_check.html",
        {
            "form": form,
            "granting": granting,
            "broker": broker,
            "answers": form.cleaned_data,
            "scope_labels": [Authorization.Scope(scope).label for scope in form.cleaned_data["scopes"]],
            "representation_label": Authorization.Representation(form.cleaned_data["representation"]).label,
        },
    )


def _confirmed(request) -> bool:
    # "Change my answers" posts the same fields back without this, to show the form again.
    return request.POST.get("confirmed") == "yes" and "change" not in request.POST


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def mandate_grant(request):
    form = GrantForm(request.POST or None, initial={"broker_tax_code": request.GET.get("broker", "")[:20]})
    status = 200
    if request.method == "POST" and "change" not in request.POST and form.is_valid():
        data = dict(form.cleaned_data)
        broker = selectors.broker_by_tax_code(data.pop("broker_tax_code"))
        try:
            if broker is None:
                raise ApplicationError(
                    _("No licensed broker has this tax code."),
                    code="broker_not_found",
                    fields={"broker_tax_code": []},
                )
            if not _confirmed(request):
                return _mandate_check(request, form, granting=True, broker=broker)
            authorization_grant(actor=request.user, broker=broker, **data)
        except ApplicationError as error:
            status = _apply(form, error)
        else:
            messages.success(request, _("The mandate is offered; it starts once the broker accepts it."))
            return redirect("mandate_list")
    elif form.errors and "change" not in request.POST:
        status = 400
    return render(request, "brokers/mandate_form.html", {"form": form, "granting": True}, status=status)


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def mandate_invite(request):
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST" and "change" not in request.POST and form.is_valid():
        if not _confirmed(request):
            return _mandate_check(request, form, granting=False)
        try:
            authorization_invite(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            status = _apply(form, error)
        else:
            messages.success(request, _("The proposal is sent; the trader accepts or declines it."))
            return redirect("mandate_list")
    elif form.errors and "change" not in request.POST:
        status = 400
    return render(request, "brokers/mandate_form.html", {"form": form, "granting": False}, status=status)


@login_required
@never_cache
@reauthentication_required
@require_http_methods(["GET", "POST"])
def mandate_codes(request):
    """What a broker needs to propose a mandate (the trader's known fact), and one-time
    authorisation codes to give it instead. A new code is shown on this answer only."""
    organization = request.user.organization
    if organization is None or organization.kind != "trader" or not request.user.is_manager:
        raise Http404
    issued = None
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "issue":
                _record, issued = mandate_code_issue(actor=request.user)
            elif request.POST.get("action") == "cancel":
                pk = whole_number(request.POST.get("code", ""))
                if pk is None:
                    raise Http404
                mandate_code_cancel(actor=request.user, pk=pk)
                messages.success(request, _("The code is cancelled."))
                return redirect("mandate_codes")
            else:
                status = 400
        except ApplicationError as error:
            if error.status_code == 404:
                raise Http404 from None
            messages.error(request, error.detail)
            status = error.status_code
    return render(
        request,
        "brokers/mandate_codes.html",
        {
            "organization": organization,
            "registered_on": timezone.localdate(organization.created_at),
            "codes": selectors.mandate_codes_of(organization),
            "issued": issued,
            "hours": settings.MANDATE_CODE_HOURS,
        },
        status=status,
    )


ACTIONS = {
    "accept": authorization_accept,
    "decline": authorization_decline,
    "cancel": authorization_cancel,
    "revoke": authorization_revoke,
}


@login_required
@reauthentication_required
@require_POST
def mandate_action(request, pk: int):
    mandate = selectors.mandate_for_viewer(viewer=request.user, pk=pk)
    action = ACTIONS.get(request.POST.get("action", ""))
    if mandate is None or action is None:
        raise Http404
    extra = (
        {"reason": request.POST.get("reason", "")[:500]}
        if action in (ACTIONS["decline"], ACTIONS["revoke"])
        else {}
    )
    try:
        action(mandate=mandate, actor=request.user, **extra)
    except ApplicationError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("The mandate is updated."))
    return redirect("mandate_list")


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def api_keys(request):
    """Keys of my organisation (managers see all, others their own); a new key is shown once."""
    if request.user.organization_id is None:
        raise Http404
    form = ApiKeyForm(request.POST or None, actor=request.user)
    new_key = None
    status = 200
    if request.method == "POST" and request.POST.get("revoke"):
        key = OrganizationAPIKey.objects.filter(
            organization_id=request.user.organization_id, prefix=request.POST["revoke"][:8]
        ).first()
        if key is None:
            raise Http404
        try:
            api_key_revoke(key=key, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.detail)
        return redirect("api_keys")
    if request.method == "POST" and form.is_valid():
        try:
            _key, new_key = api_key_create(
                actor=request.user,
                holder=form.cleaned_data["holder"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except ApplicationError as error:
            status = _apply(form, error)
    elif form.errors:
        status = 400
    keys = OrganizationAPIKey.objects.filter(organization_id=request.user.organization_id).select_related(
        "user"
    )
    if not request.user.is_manager:
        keys = keys.filter(user=request.user)
    return render(
        request, "brokers/api_keys.html", {"form": form, "keys": keys, "new_key": new_key}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def brokerage_licence(request):
    """The enterprise's brokerage licence, its applications and their outcome; a trader or a broker
    without a licence applies here (its agents proposed first, on the agents page)."""
    user = request.user
    if not user.is_manager:
        raise Http404
    licence = selectors.broker_licence_of(user)
    applications = list(selectors.licence_application_list(organization=user.organization))
    pending = any(a.status == LicenceApplication.Status.SUBMITTED for a in applications)
    can_apply = licence is None and not pending
    form = None
    if can_apply:
        initial = {"contact_name": f"{user.last_name} {user.first_name}".strip(), "contact_email": user.email}
        form = LicenceApplicationForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form is None:
            messages.error(request, _("Your enterprise cannot apply now."))
            return redirect("broker_licence")
        if form.is_valid():
            try:
                licence_application_submit(actor=user, **form.cleaned_data)
            except ApplicationError as error:
                status = _apply(form, error)
            except ValidationError as error:
                form.add_error(None, error)
                status = 400
            else:
                messages.success(request, _("Your application is sent; customs reviews it."))
                return redirect("broker_licence")
        else:
            status = 400
    context = {
        "licence": licence,
        "applications": applications,
        "form": form,
        "proposed_agents": selectors.agent_proposal_list(organization=user.organization)
        .filter(status=AgentProposal.Status.PROPOSED)
        .count(),
    }
    return render(request, "brokers/licence.html", context, status=status)


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def agents(request):
    """The enterprise's customs agents, who may sign for clients with their personal agent numbers,
    and the ones it proposed; customs confirms a proposal before the person may act as an agent."""
    user = request.user
    if not user.is_manager:
        raise Http404
    organization = user.organization
    licence = selectors.broker_licence_of(user)
    form = AgentProposalForm(request.POST or None, organization=organization)
    status = 200
    if request.method == "POST" and request.POST.get("leave"):
        agent_id = whole_number(request.POST["leave"])
        agent = licence.agents.filter(pk=agent_id).first() if agent_id is not None and licence else None
        if agent is None:
            raise Http404
        try:
            agent_leave(agent=agent, left_on=timezone.localdate(), actor=user)
        except ApplicationError as error:
            messages.error(request, error.detail)
        return redirect("agents")
    if request.method == "POST" and form.is_valid():
        try:
            agent_propose(actor=user, **form.cleaned_data)
        except ApplicationError as error:
            status = _apply(form, error)
        else:
            messages.success(request, _("The agent is proposed; customs confirms them."))
            return redirect("agents")
    elif form.errors:
        status = 400
    context = {
        "form": form,
        "licence": licence,
        "agents": licence.agents.select_related("user").order_by("-joined_on") if licence else [],
        "proposals": selectors.agent_proposal_list(organization=organization),
    }
    return render(request, "brokers/agents.html", context, status=status)
