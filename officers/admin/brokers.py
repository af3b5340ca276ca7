"""Broker licences, agents, mandates and operations reports in the officer console."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brokers.models import AgentStaff, Authorization, BrokerLicence, OperationReport
from brokers.services.agents import agent_leave, agent_register
from brokers.services.licences import licence_reinstate, licence_renew, licence_revoke, licence_suspend
from officers.actions import ActionsModelAdmin, ObjectAction
from officers.admin.licensing import AgentAddForm, LeftOnForm, RenewForm
from officers.site import OfficerModelAdmin, officer_site

_CHANGE = "brokers.change_brokerlicence"
_CHANGE_AGENT = "brokers.change_agentstaff"
_LIVE = (BrokerLicence.Status.ACTIVE, BrokerLicence.Status.SUSPENDED, BrokerLicence.Status.EXPIRED)


@admin.register(BrokerLicence, site=officer_site)
class BrokerLicenceAdmin(ActionsModelAdmin):
    list_display = ("number", "organization", "status", "issued_on", "expires_on", "status_changed_at")
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
        ObjectAction(
            "renew",
            _("Renew the licence"),
            _CHANGE,
            lambda licence, actor, data: licence_renew(
                licence=licence, actor=actor, expires_on=data["expires_on"], reason=data["reason"]
            ),
            form_class=RenewForm,
            available=lambda licence: (
                licence.status in (BrokerLicence.Status.ACTIVE, BrokerLicence.Status.EXPIRED)
            ),
            explanation=_("A new last day; an expired licence is active again and its traders are told."),
        ),
        ObjectAction(
            "add_agent",
            _("Add a customs agent"),
            _CHANGE_AGENT,
            lambda licence, actor, data: agent_register(
                user=data["user"],
                licence=licence,
                agent_number=data["agent_number"],
                joined_on=timezone.localdate(),
                actor=actor,
            ),
            form_class=AgentAddForm,
            form_kwargs=lambda licence: {"organization": licence.organization},
            available=lambda licence: licence.status in _LIVE,
        ),
    )


@admin.register(AgentStaff, site=officer_site)
class AgentStaffAdmin(ActionsModelAdmin):
    personal_data = True
    list_display = ("agent_number", "user", "licence", "joined_on", "left_on")
    search_fields = ("agent_number", "user__username", "licence__number")
    list_select_related = ("user", "licence")
    object_actions = (
        ObjectAction(
            "remove",
            _("Remove the agent"),
            _CHANGE_AGENT,
            lambda agent, actor, data: agent_leave(agent=agent, left_on=data["left_on"], actor=actor),
            form_class=LeftOnForm,
            available=lambda agent: agent.left_on is None,
            explanation=_(
                "From that day the person can no longer sign for clients; their API keys are revoked."
            ),
        ),
    )

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
