"""Broker licences, agents, mandates and operations reports in the officer console."""

from __future__ import annotations

from django.contrib import admin

from audit.officers import OfficerModelAdmin, officer_site
from brokers.models import AgentStaff, Authorization, BrokerLicence, OperationReport


@admin.register(BrokerLicence, site=officer_site)
class BrokerLicenceAdmin(OfficerModelAdmin):
    list_display = ("number", "organization", "status", "issued_on", "status_changed_at")
    list_filter = ("status",)
    search_fields = ("number", "organization__name", "organization__tax_code")
    list_select_related = ("organization",)


@admin.register(AgentStaff, site=officer_site)
class AgentStaffAdmin(OfficerModelAdmin):
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
