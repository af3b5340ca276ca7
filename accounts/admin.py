"""Organisations, people and sign-ins in the officer console."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import Organization, SignInEvent, User
from audit.officers import OfficerModelAdmin, officer_site


@admin.register(Organization, site=officer_site)
class OrganizationAdmin(OfficerModelAdmin):
    list_display = ("name", "tax_code", "kind", "status", "compliance_level", "non_cooperation", "province")
    list_filter = ("kind", "status", "compliance_level", "non_cooperation")
    search_fields = ("name", "tax_code")

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
