"""Broker licences, agents, mandates and operations reports in the officer console."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from brokers.models import AgentStaff, Authorization, BrokerLicence, OperationReport
from brokers.services.licences import licence_reinstate, licence_revoke, licence_suspend
from officers.actions import ActionsModelAdmin, ObjectAction
from officers.site import OfficerModelAdmin, officer_site

_CHANGE = "brokers.change_brokerlicence"


@admin.register(BrokerLicence, site=officer_site)
class BrokerLicenceAdmin(ActionsModelAdmin):
    list_display = ("number", "organization", "status", "issued_on", "status_changed_at")
    list_filter = ("status",)
    search_fields = ("number", "organization__name", "organization__tax_code")
    list_select_related = ("organization",)
    object_actions = (
        ObjectAction(
            "suspend",
            _("Suspend the licence"),
            _CHANGE,
            lambda licence, actor, data: licence_suspend(licence=licence, actor=actor, reason=data["reason"]),
            available=lambda licence: licence.status == BrokerLicence.Status.ACTIVE,
            explanation=_(
                "Its active mandates are suspended with it and its API keys stop working until the "
                "licence is reinstated."
            ),
        ),
        ObjectAction(
            "reinstate",
            _("Reinstate the licence"),
            _CHANGE,
            lambda licence, actor, data: licence_reinstate(
                licence=licence, actor=actor, reason=data["reason"]
            ),
            available=lambda licence: licence.status == BrokerLicence.Status.SUSPENDED,
            explanation=_("The mandates and API keys the suspension stopped come back."),
        ),
        ObjectAction(
            "revoke",
            _("Revoke the licence"),
            _CHANGE,
            lambda licence, actor, data: licence_revoke(licence=licence, actor=actor, reason=data["reason"]),
            available=lambda licence: licence.status != BrokerLicence.Status.REVOKED,
            explanation=_("For good: every live mandate is revoked by customs and every API key revoked."),
        ),
    )


@admin.register(AgentStaff, site=officer_site)
class AgentStaffAdmin(OfficerModelAdmin):
    personal_data = True
    list_display = ("agent_number", "user", "licence", "joined_on", "left_on")
    search_fields = ("agent_number", "user__username", "licence__number")
    list_select_related = ("user", "licence")

    def organization_of(self, obj):
        return obj.licence.organization


@admin.register(Authorization, site=officer_site)
class AuthorizationAdmin(OfficerModelAdmin):
    list_display = ("contract_number", "trader", "broker", "status", "valid_from", "valid_until")
    list_filter = ("status", "representation")
    search_fields = ("contract_number", "trader__tax_code", "broker__tax_code")
    list_select_related = ("trader", "broker")

    def organization_of(self, obj):
        return obj.trader


@admin.register(OperationReport, site=officer_site)
class OperationReportAdmin(OfficerModelAdmin):
    list_display = ("broker", "period_start", "period_end", "due_on", "status", "submitted_at")
    list_filter = ("status",)
    search_fields = ("broker__name", "broker__tax_code")
    list_select_related = ("broker",)

    def organization_of(self, obj):
        return obj.broker
