"""Organisations, people and sign-ins in the officer console."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Organization, SignInEvent, User
from audit.officers import ActionsModelAdmin, ObjectAction, OfficerModelAdmin, officer_site

_CHANGE = "accounts.change_organization"


@admin.register(Organization, site=officer_site)
class OrganizationAdmin(ActionsModelAdmin):
    list_display = ("name", "tax_code", "kind", "status", "compliance_level", "non_cooperation", "province")
    list_filter = ("kind", "status", "compliance_level", "non_cooperation")
    search_fields = ("name", "tax_code")
    object_actions = (
        ObjectAction(
            "verify",
            _("Verify"),
            _CHANGE,
            lambda org, actor, data: services.organization_verify(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status == Organization.Status.PENDING_VERIFICATION,
        ),
        ObjectAction(
            "suspend",
            _("Suspend"),
            _CHANGE,
            lambda org, actor, data: services.organization_suspend(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status != Organization.Status.SUSPENDED,
        ),
        ObjectAction(
            "reinstate",
            _("Lift the suspension"),
            _CHANGE,
            lambda org, actor, data: services.organization_reinstate(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status == Organization.Status.SUSPENDED,
        ),
        ObjectAction(
            "mark-non-cooperation",
            _("Mark as not cooperating"),
            _CHANGE,
            lambda org, actor, data: services.organization_non_cooperation_set(
                organization=org, marked=True, actor=actor, reason=data["reason"]
            ),
            available=lambda org: not org.non_cooperation,
        ),
        ObjectAction(
            "clear-non-cooperation",
            _("Clear the non-cooperation mark"),
            _CHANGE,
            lambda org, actor, data: services.organization_non_cooperation_set(
                organization=org, marked=False, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.non_cooperation,
        ),
    )

    def organization_of(self, obj):
        return obj


@admin.register(User, site=officer_site)
class UserAdmin(OfficerModelAdmin):
    list_display = ("username", "first_name", "last_name", "organization", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "first_name", "last_name", "email", "organization__tax_code")
    list_select_related = ("organization",)
    exclude = ("password", "user_permissions")


@admin.register(SignInEvent, site=officer_site)
class SignInEventAdmin(OfficerModelAdmin):
    list_display = ("occurred_at", "user", "organization", "channel", "outcome", "factor", "ip", "risk_score")
    list_filter = ("channel", "outcome", "factor")
    search_fields = ("user__username", "organization__tax_code", "ip", "network")
    list_select_related = ("user", "organization")
    date_hierarchy = "occurred_at"
