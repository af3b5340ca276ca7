"""Enterprises, people and sign-ins in the officer console. An enterprise's page carries the
officers' decisions on it: verify, suspend, lift, non-cooperation, and its compliance level."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, SignInEvent, User
from accounts.services.organizations import organization_verify
from officers.actions import ActionsModelAdmin, ConfirmForm, ObjectAction, ReasonForm
from officers.labels import channel_label, person_name
from officers.policies import reason_text
from officers.services import compliance, decisions
from officers.site import OfficerModelAdmin, officer_site


@admin.register(User, site=officer_site)
class UserAdmin(OfficerModelAdmin):
    personal_data = True
    list_display = ("username", "full_name", "organization", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "first_name", "last_name", "email", "organization__tax_code")
    list_select_related = ("organization",)
    exclude = ("password", "user_permissions")

    @admin.display(description=_("full name"), ordering="last_name")
    def full_name(self, obj) -> str:
        return person_name(obj)


@admin.register(SignInEvent, site=officer_site)
class SignInEventAdmin(OfficerModelAdmin):
    personal_data = True
    list_display = ("occurred_at", "user", "organization", "channel", "outcome", "factor", "ip", "risk_score")
    list_filter = ("channel", "outcome", "factor")
    search_fields = ("user__username", "organization__tax_code", "ip", "network")
    list_select_related = ("user", "organization")
    date_hierarchy = "occurred_at"


class ClassifyForm(ReasonForm):
    level = forms.ChoiceField(
        label=_("Compliance level"),
        choices=[choice for choice in Organization.ComplianceLevel.choices if choice[0] != "unclassified"],
    )
    field_order = ("level", "reason")


_ORGANIZATIONS = "accounts.change_organization"
_CLASSIFY = "audit.classify_enterprise"


@admin.register(Organization, site=officer_site)
class OrganizationAdmin(ActionsModelAdmin):
    list_display = ("name", "tax_code", "kind", "status", "compliance_level", "non_cooperation", "province")
    list_filter = ("kind", "status", "compliance_level", "non_cooperation")
    search_fields = ("name", "tax_code")
    readonly_fields = ("segment", "channel", "reasons", "working_week")
    exclude = ("compliance_reasons", "working_days")
    object_actions = (
        ObjectAction(
            "classify",
            _("Set the compliance level"),
            _CLASSIFY,
            lambda org, actor, data: compliance.compliance_override_set(
                organization=org, level=data["level"], reason=data["reason"], actor=actor
            ),
            form_class=ClassifyForm,
            explanation=_(
                "Your level holds, whatever the nightly classification computes, until you clear it."
            ),
        ),
        ObjectAction(
            "clear-classification",
            _("Clear the officer's level"),
            _CLASSIFY,
            lambda org, actor, data: compliance.compliance_override_clear(
                organization=org, reason=data["reason"], actor=actor
            ),
            available=lambda org: bool(org.compliance_override_level),
        ),
        ObjectAction(
            "reclassify",
            _("Recompute the level now"),
            _CLASSIFY,
            lambda org, actor, data: compliance.compliance_classify(organization=org),
            form_class=ConfirmForm,
        ),
        ObjectAction(
            "verify",
            _("Verify"),
            _ORGANIZATIONS,
            lambda org, actor, data: organization_verify(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status == Organization.Status.PENDING_VERIFICATION,
        ),
        ObjectAction(
            "suspend",
            _("Suspend"),
            _ORGANIZATIONS,
            lambda org, actor, data: decisions.organization_suspend(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status != Organization.Status.SUSPENDED,
        ),
        ObjectAction(
            "reinstate",
            _("Lift the suspension"),
            _ORGANIZATIONS,
            lambda org, actor, data: decisions.organization_reinstate(
                organization=org, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.status == Organization.Status.SUSPENDED,
        ),
        ObjectAction(
            "mark-non-cooperation",
            _("Mark as not cooperating"),
            _ORGANIZATIONS,
            lambda org, actor, data: decisions.organization_non_cooperation_set(
                organization=org, marked=True, actor=actor, reason=data["reason"]
            ),
            available=lambda org: not org.non_cooperation,
        ),
        ObjectAction(
            "clear-non-cooperation",
            _("Clear the non-cooperation mark"),
            _ORGANIZATIONS,
            lambda org, actor, data: decisions.organization_non_cooperation_set(
                organization=org, marked=False, actor=actor, reason=data["reason"]
            ),
            available=lambda org: org.non_cooperation,
        ),
    )

    def organization_of(self, obj):
        return obj

    @admin.display(description=_("compliance pyramid segment"))
    def segment(self, obj) -> str:
        return obj.compliance_segment

    @admin.display(description=_("suggested channel"))
    def channel(self, obj) -> str:
        return channel_label(obj.suggested_channel)

    @admin.display(description=_("working days"))
    def working_week(self, obj) -> str:
        return obj.working_days_label or "—"

    @admin.display(description=_("classification reasons"))
    def reasons(self, obj) -> str:
        return (
            format_html_join("", "<li>{}</li>", ((reason_text(reason),) for reason in obj.compliance_reasons))
            or "—"
        )
