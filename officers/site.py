"""The officer console: a Django admin site of its own at ``/officers/`` (DESIGN §2).

Only customs officers reach it, and only after signing in *here* with their password and second
factor (``officers.views``): the session then carries ``OFFICER_SESSION`` and the OTP verification,
so a portal session (even an officer's) does not open the console, and the sign-in is recorded on
the ``officers`` channel (the request path decides the channel, ``audit.middleware.channel_for_path``).

``officers.admin`` registers every model and page of the console on ``officer_site``. What a
signed-in officer may do is decided by the groups of ``officers.permissions.OFFICER_GROUPS``
(``python manage.py officer_groups``).
"""

from __future__ import annotations

import csv
import functools

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services.events import audit_event_record
from officers import dashboard
from officers.views import console_login, console_login_verify, is_console_session


class OfficerSite(admin.AdminSite):
    site_header = _("Customs officer console")
    site_title = _("Officer console")
    index_title = _("Dashboard")
    site_url = None
    login_template = "officers/login.html"
    index_template = "officers/index.html"
    enable_nav_sidebar = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[tuple[str, object, str, str, str]] = []

    def has_permission(self, request) -> bool:
        return is_console_session(request)

    def get_urls(self):
        urls = [
            path("login/verify/", self.login_verify, name="login_verify"),
            path("dashboard/<slug:key>.csv", self.admin_view(self.dashboard_csv), name="dashboard_csv"),
            *self.extra_urls(),
        ]
        return urls + super().get_urls()

    def index(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if request.user.has_perm("audit.view_dashboard"):
            extra_context["panels"] = dashboard.panels()
        return super().index(request, extra_context)

    def dashboard_csv(self, request, key: str):
        require_perm(request, "audit.view_dashboard")
        if key not in dashboard.PANELS:
            raise Http404
        panel = dashboard.PANELS[key]()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{key}.csv"'
        writer = csv.writer(response)
        writer.writerow([str(column) for column in panel.columns])
        writer.writerows(panel.rows)
        return response

    def register_page(self, route: str, view, *, name: str, title=None, permission: str = "") -> None:
        """A console page that is not one model's (the who-signed search, a receipt, an upload);
        shown in the menu when it has a ``title`` and the officer has ``permission``."""
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

    def login(self, request, extra_context=None):
        return console_login(request, site=self)

    def login_verify(self, request):
        return console_login_verify(request, site=self)


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
    audit_event_record(
        action=Action.OFFICER_VIEWED,
        actor=request.user,
        organization=organization,
        target=target,
        data={"page": request.path[:200], **(data or {})},
    )
