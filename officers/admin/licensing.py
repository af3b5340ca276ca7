"""Licensing in the officer console: brokerage licence applications (grant or reject) and the
customs agents enterprises propose (confirm or reject), each action one service call."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from brokers.models import AgentProposal, LicenceApplication
from brokers.services.licensing import (
    AGENT_ROLES,
    DECIDE_APPLICATION,
    DECIDE_PROPOSAL,
    agent_proposal_confirm,
    agent_proposal_reject,
    licence_application_grant,
    licence_application_reject,
)
from core.text import validate_visible_text
from officers.actions import ActionsModelAdmin, ConfirmForm, ObjectAction
from officers.site import officer_site

_DATE = forms.DateInput(attrs={"type": "date"})


class LicenceTermsForm(forms.Form):
    number = forms.CharField(label=_("Licence number"), max_length=64, validators=[validate_visible_text])
    issued_by = forms.CharField(
        label=_("Issuing department"), max_length=255, required=False, validators=[validate_visible_text]
    )
    issued_on = forms.DateField(label=_("Issued on"), widget=_DATE)
    expires_on = forms.DateField(
        label=_("Valid until"), widget=_DATE, required=False, help_text=_("Leave empty for no end date.")
    )

    def clean(self):
        cleaned = super().clean()
        issued_on, expires_on = cleaned.get("issued_on"), cleaned.get("expires_on")
        if issued_on and expires_on and expires_on < issued_on:
            self.add_error("expires_on", forms.ValidationError(_("The licence must end after it is issued.")))
        return cleaned


class GrantForm(LicenceTermsForm):
    agents = forms.ModelMultipleChoiceField(
        label=_("Customs agents to confirm"),
        queryset=AgentProposal.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The agents the enterprise proposed; those not chosen stay proposed."),
    )

    def __init__(self, *args, application: LicenceApplication, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agents"].queryset = AgentProposal.objects.filter(
            organization_id=application.organization_id, status=AgentProposal.Status.PROPOSED
        ).select_related("user")
        self.fields["agents"].initial = list(self.fields["agents"].queryset)
        self.fields["agents"].label_from_instance = lambda proposal: (
            f"{proposal.agent_number}: {proposal.user.last_name} {proposal.user.first_name}"
        )
        if application.licence_number:
            self.fields["number"].initial = application.licence_number


class RenewForm(forms.Form):
    expires_on = forms.DateField(
        label=_("Valid until"), widget=_DATE, required=False, help_text=_("Leave empty for no end date.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class AgentAddForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Staff member"), queryset=User.objects.none())
    agent_number = forms.CharField(label=_("Agent number"), max_length=64, validators=[validate_visible_text])

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            organization=organization, role__in=AGENT_ROLES, is_active=True, agent_profile__isnull=True
        ).order_by("last_name", "first_name")


class LeftOnForm(forms.Form):
    left_on = forms.DateField(label=_("Left on"), widget=_DATE, initial=timezone.localdate)


# The permissions that decide an application or a proposal are also who is told of one.
_CHANGE_APPLICATION = DECIDE_APPLICATION
_CHANGE_PROPOSAL = DECIDE_PROPOSAL


def _grant(application, actor, data):
    return licence_application_grant(
        application=application,
        actor=actor,
        number=data["number"],
        issued_by=data["issued_by"],
        issued_on=data["issued_on"],
        expires_on=data["expires_on"],
        agents=data["agents"],
    )


@admin.register(LicenceApplication, site=officer_site)
class LicenceApplicationAdmin(ActionsModelAdmin):
    list_display = ("organization", "status", "licence_number", "submitted_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("organization__name", "organization__tax_code", "licence_number")
    list_select_related = ("organization",)
    object_actions = (
        ObjectAction(
            "grant",
            _("Grant the licence"),
            _CHANGE_APPLICATION,
            _grant,
            form_class=GrantForm,
            form_kwargs=lambda application: {"application": application},
            available=lambda application: application.status == LicenceApplication.Status.SUBMITTED,
            explanation=_(
                "The enterprise becomes a licensed customs broker, listed in the directory at once; the "
                "chosen agents may sign for its clients."
            ),
        ),
        ObjectAction(
            "reject",
            _("Reject the application"),
            _CHANGE_APPLICATION,
            lambda application, actor, data: licence_application_reject(
                application=application, actor=actor, reason=data["reason"]
            ),
            available=lambda application: application.status == LicenceApplication.Status.SUBMITTED,
            explanation=_("The enterprise's owner is told the reason and may apply again."),
        ),
    )


@admin.register(AgentProposal, site=officer_site)
class AgentProposalAdmin(ActionsModelAdmin):
    personal_data = True
    list_display = ("agent_number", "user", "organization", "status", "proposed_at")
    list_filter = ("status",)
    search_fields = ("agent_number", "organization__name", "organization__tax_code")
    list_select_related = ("user", "organization")
    object_actions = (
        ObjectAction(
            "confirm",
            _("Confirm the agent"),
            _CHANGE_PROPOSAL,
            lambda proposal, actor, data: agent_proposal_confirm(proposal=proposal, actor=actor),
            form_class=ConfirmForm,
            available=lambda proposal: proposal.status == AgentProposal.Status.PROPOSED,
            explanation=_("The person becomes a customs agent of the licensed broker from today."),
        ),
        ObjectAction(
            "reject",
            _("Reject the agent"),
            _CHANGE_PROPOSAL,
            lambda proposal, actor, data: agent_proposal_reject(
                proposal=proposal, actor=actor, reason=data["reason"]
            ),
            available=lambda proposal: proposal.status == AgentProposal.Status.PROPOSED,
        ),
    )
