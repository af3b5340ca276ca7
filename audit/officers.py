"""The officer console: a Django admin site of its own at ``/officers/`` (DESIGN §2).

Only customs officers reach it, and only after signing in *here* with their password and second
factor: the session then carries ``OFFICER_SESSION`` and the OTP verification, so a portal session
(even an officer's) does not open the console, and the sign-in is recorded on the ``officers``
channel (the request path decides the channel, ``audit.middleware.channel_for_path``).

Each app's ``admin.py`` registers its models on ``officer_site``; higher apps import this module,
never the reverse. What a signed-in officer may do is decided by the groups of
``OFFICER_GROUPS`` (``python manage.py officer_groups``).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

OFFICER_SESSION = "officers.signed_in"
DASHBOARD_DAYS = 30
PENDING = "officers.mfa_pending"
PENDING_SECONDS = 300
PENDING_TRIES = 5

# Group name -> permissions ("app_label.codename"). Every group also gets VIEWER's. Nobody gets a
# delete permission: the console changes state through services, and history is not deleted.
VIEW_MODELS = (
    "audit.flag",
    "audit.case",
    "audit.casenote",
    "audit.auditcheckpoint",
    "accounts.organization",
    "accounts.user",
    "accounts.signinevent",
    "brokers.brokerlicence",
    "brokers.agentstaff",
    "brokers.authorization",
    "brokers.operationreport",
    "signatures.trustedissuer",
    "signatures.revocationlist",
    "signatures.certificate",
    "signatures.declaration",
    "signatures.signaturerecord",
    "signatures.abusereport",
)
VIEWER = (
    *(f"{model.split('.')[0]}.view_{model.split('.')[1]}" for model in VIEW_MODELS),
    "audit.view_dashboard",
    "audit.search_signatures",
)
INVESTIGATOR = (
    "audit.change_flag",
    "audit.add_case",
    "audit.change_case",
    "audit.add_casenote",
    "audit.classify_enterprise",
)
REGISTRAR = (
    "brokers.change_brokerlicence",
    "signatures.add_trustedissuer",
    "signatures.change_trustedissuer",
    "signatures.add_revocationlist",
    "signatures.change_certificate",
    "accounts.change_organization",
)
OFFICER_GROUPS = {
    "viewer": VIEWER,
    "investigator": (*VIEWER, *INVESTIGATOR),
    "registrar": (*VIEWER, *REGISTRAR),
    "administrator": (*VIEWER, *INVESTIGATOR, *REGISTRAR, "accounts.change_user", "auth.view_group"),
}


@dataclass
class Panel:
    """One dashboard panel: a table (also its CSV) and, optionally, a server-rendered SVG chart."""

    key: str
    title: str
    columns: list
    rows: list[list] = field(default_factory=list)
    svg: str = ""


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


class OfficerSite(admin.AdminSite):
    site_header = _("Customs officer console")
    site_title = _("Officer console")
    index_title = _("Dashboard")
    site_url = None
    login_template = "officers/login.html"
    index_template = "officers/index.html"
    enable_nav_sidebar = False

    def has_permission(self, request) -> bool:
        return is_console_session(request)

    def get_urls(self):
        urls = [
            path("login/verify/", self.login_verify, name="login_verify"),
            path("dashboard/<slug:key>.csv", self.admin_view(self.dashboard_csv), name="dashboard_csv"),
            *self.extra_urls(),
        ]
        return urls + super().get_urls()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[tuple[str, object, str, str, str]] = []
        self._sign_in: tuple[Callable, Callable] | None = None
        self._panels: dict[str, tuple[int, Callable[[], Panel]]] = {}

    def register_panel(self, key: str, build: Callable[[], Panel], *, order: int = 50) -> None:
        """A dashboard panel; ``build`` runs the panel's selector (the app that owns the data
        registers it, so this bottom app imports none of theirs)."""
        self._panels[key] = (order, build)

    def panels(self) -> list[Panel]:
        return [build() for _order, build in sorted(self._panels.values(), key=lambda item: item[0])]

    def index(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if request.user.has_perm("audit.view_dashboard"):
            extra_context["panels"] = self.panels()
        return super().index(request, extra_context)

    def dashboard_csv(self, request, key: str):
        require_perm(request, "audit.view_dashboard")
        if key not in self._panels:
            raise Http404
        panel = self._panels[key][1]()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{key}.csv"'
        writer = csv.writer(response)
        writer.writerow([str(column) for column in panel.columns])
        writer.writerows(panel.rows)
        return response

    def register_page(self, route: str, view, *, name: str, title=None, permission: str = "") -> None:
        """A console page that is not one model's (the who-signed search, the dashboard's CSV).
        Registered by the app that owns its data; shown in the menu when it has a ``title``."""
        self._pages.append((route, view, name, title, permission))

    def extra_urls(self) -> list:
        return [path(route, self.admin_view(view), name=name) for route, view, name, _t, _p in self._pages]

    def pages_for(self, request) -> list[tuple[str, str]]:
        return [
            (title, reverse(f"{self.name}:{name}"))
            for _route, _view, name, title, permission in self._pages
            if title and (not permission or request.user.has_perm(permission))
        ]

    def each_context(self, request):
        permitted = self.has_permission(request)
        return {
            "site_title": self.site_title,
            "site_header": self.site_header,
            "site_url": self.site_url,
            "has_permission": permitted,
            # Django builds every model's entry (permissions, URLs) for a sidebar this console does
            # not show: a template calls this only where it lists the apps (a few ms a page).
            "available_apps": functools.partial(self.get_app_list, request),
            "is_popup": False,
            "is_nav_sidebar_enabled": self.enable_nav_sidebar,
            "log_entries": self.get_log_entries(request),
            "console_pages": self.pages_for(request) if permitted else [],
        }

    def password_change(self, request, extra_context=None):
        # One password policy: the portal's page applies it (history, breach check, audit).
        return redirect("password_change")

    # The two sign-in steps need the accounts app's services (sign-in records, second factor), which
    # this bottom app must not import: ``accounts.admin`` registers them here.
    def register_sign_in(self, *, login, verify) -> None:
        self._sign_in = (login, verify)

    def login(self, request, extra_context=None):
        if self._sign_in is None:
            raise Http404
        return self._sign_in[0](request, site=self)

    def login_verify(self, request):
        if self._sign_in is None:
            raise Http404
        return self._sign_in[1](request, site=self)


officer_site = OfficerSite(name="officers")


def require_perm(request, permission: str) -> None:
    """Console views beyond a model admin's own: the officer's groups must grant ``permission``."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


class OfficerModelAdmin(admin.ModelAdmin):
    """Read-only by default: state changes go through the actions and pages a subclass adds, each
    calling a service; nothing is deleted from the console."""

    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # Officers see everything, and their reads of personal data are audited (DESIGN §5 rule 6).
    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", 0) == 200:
            obj = self.get_object(request, admin.utils.unquote(object_id))
            if obj is not None:
                officer_view_record(request, target=obj, organization=self.organization_of(obj))
        return response

    # Lists of people (names, contact data, ID numbers, addresses they signed in from) are audited
    # even unfiltered; other lists only when searched.
    personal_data = False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        query = request.GET.get("q", "").strip()
        if (query or self.personal_data) and getattr(response, "status_code", 0) == 200:
            filters = {key: value[:100] for key, value in request.GET.items() if key not in ("q", "p", "o")}
            officer_view_record(
                request,
                target=(self.model._meta.label_lower, ""),
                data={"search": query[:200], "filters": filters},
            )
        return response

    def organization_of(self, obj):
        """The enterprise whose data ``obj`` is, for the audit event of an officer's read."""
        organization = getattr(obj, "organization", None)
        return organization if organization is not None and hasattr(organization, "tax_code") else None


def officer_view_record(request, *, target, organization=None, data: dict | None = None) -> None:
    from audit.models import Action
    from audit.services.events import audit_event_record

    audit_event_record(
        action=Action.OFFICER_VIEWED,
        actor=request.user,
        organization=organization,
        target=target,
        data={"page": request.path[:200], **(data or {})},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text=_("Recorded in the audit trail and shown to the parties concerned."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason."), code="required")
        return reason


class ConfirmForm(forms.Form):
    pass


@dataclass
class ObjectAction:
    """A console action on one object: a form (a reason, a file…), then one service call.

    ``run(obj, actor, cleaned_data)`` calls the service; ``available(obj)`` hides the action where
    the object's state makes it pointless. Domain errors (``ApplicationError``, ``ValidationError``)
    become form errors and nothing changes (each service is one transaction)."""

    name: str
    label: object
    permission: str
    run: Callable
    form_class: type[forms.Form] = ReasonForm
    available: Callable = field(default=lambda obj: True)
    explanation: object = ""


class ActionsModelAdmin(OfficerModelAdmin):
    """An ``OfficerModelAdmin`` with per-object actions listed on the object's page."""

    object_actions: tuple[ObjectAction, ...] = ()
    change_form_template = "officers/change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/do/<slug:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name="{}_{}_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def actions_for(self, request, obj) -> list[ObjectAction]:
        return [
            action
            for action in self.object_actions
            if request.user.has_perm(action.permission) and action.available(obj)
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None:
            info = self.opts.app_label, self.opts.model_name
            extra_context["object_actions"] = [
                (action.label, reverse("officers:{}_{}_action".format(*info), args=[obj.pk, action.name]))
                for action in self.actions_for(request, obj)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def object_action_view(self, request, object_id, action):
        from django.core.exceptions import ValidationError

        from core.errors import ApplicationError

        chosen = next((a for a in self.object_actions if a.name == action), None)
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if chosen is None or obj is None:
            raise Http404
        require_perm(request, chosen.permission)
        back = reverse(f"officers:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        posted = request.method == "POST"
        form = chosen.form_class(request.POST if posted else None, request.FILES if posted else None)
        if request.method == "POST" and form.is_valid():
            try:
                chosen.run(obj, request.user, form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, ValidationError(str(error.detail), code=error.code))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, gettext("Done: %(action)s.") % {"action": chosen.label})
                return redirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": chosen.label,
            "object": obj,
            "form": form,
            "back_url": back,
            "explanation": chosen.explanation,
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "officers/reason_form.html", context, status=400 if form.errors else 200
        )


def bulk_action_form(modeladmin, request, queryset, *, action: str, form_class, title, run):
    """An admin action that asks for input first (an assignee, an outcome and note): the first POST
    shows the form for the selected rows; the confirmed POST runs ``run(objects, cleaned_data)`` in
    one transaction, so a refusal leaves every row as it was."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from core.errors import ApplicationError

    objects = list(queryset)
    confirmed = request.POST.get("confirm") == "1"
    form = form_class(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        try:
            with transaction.atomic():
                run(objects, form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, ValidationError(str(error.detail), code=error.code))
        else:
            modeladmin.message_user(request, gettext("Done: %(action)s.") % {"action": title})
            return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": objects,
        "form": form,
        "action": action,
        "opts": modeladmin.opts,
        "back_url": reverse(f"officers:{modeladmin.opts.app_label}_{modeladmin.opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "officers/bulk_form.html", context, status=400 if form.errors else 200)
