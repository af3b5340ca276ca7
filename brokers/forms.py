from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import normalize_phone
from brokers.models import AgentProposal, Authorization, OrganizationAPIKey
from brokers.services.licensing import AGENT_ROLES
from core.forms import DayField
from core.text import validate_visible_text


class DirectorySearchForm(forms.Form):
    q = forms.CharField(label=_("Name, tax code or licence number"), max_length=100, required=False)
    province = forms.CharField(label=_("Province or city"), max_length=64, required=False)


class MandateForm(forms.Form):
    scopes = forms.MultipleChoiceField(
        label=_("Kinds of declaration"),
        choices=Authorization.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    representation = forms.ChoiceField(
        label=_("Representation"), choices=Authorization.Representation.choices
    )
    contract_number = forms.CharField(
        label=_("Contract number"), max_length=64, validators=[validate_visible_text]
    )
    valid_from = DayField(label=_("Valid from"))
    valid_until = DayField(label=_("Valid until"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end < start:
            self.add_error(
                "valid_until",
                ValidationError(_("The mandate must end after it starts."), code="invalid_window"),
            )
        return cleaned


class GrantForm(MandateForm):
    broker_tax_code = forms.CharField(label=_("Broker's tax code"), max_length=20)
    grantor_name = forms.CharField(
        label=_("Your name, as grantor"), max_length=150, validators=[validate_visible_text]
    )
    grantor_title = forms.CharField(label=_("Your title"), max_length=150, validators=[validate_visible_text])
    field_order = [
        "broker_tax_code", "scopes", "representation", "contract_number", "valid_from", "valid_until",
        "grantor_name", "grantor_title",
    ]  # fmt: skip


class InviteForm(MandateForm):
    trader_tax_code = forms.CharField(label=_("Trader's tax code"), max_length=20)
    trader_registered_on = DayField(
        label=_("Date the trader registered in this portal"),
        help_text=_(
            "Ask the trader: its owner sees it under Mandates, 'What your broker needs'. It proves you "
            "deal with them."
        ),
        required=False,
    )
    authorization_code = forms.CharField(
        label=_("Or the trader's one-time authorisation code"),
        help_text=_("Eight characters such as K7QM-3XWP, issued by the trader and usable once."),
        required=False,
        max_length=16,
    )
    field_order = ["trader_tax_code", "trader_registered_on", "authorization_code", "scopes",
                   "representation", "contract_number", "valid_from", "valid_until"]  # fmt: skip

    def clean(self):
        data = super().clean()
        has_date = data.get("trader_registered_on") is not None
        has_code = bool(data.get("authorization_code", "").strip())
        if has_date == has_code and "trader_registered_on" not in self.errors:
            self.add_error(
                "trader_registered_on", _("Give either the registration date or the authorisation code.")
            )
        return data


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=50, help_text=_("Where the key is used, e.g. 'ECUS server'.")
    )
    holder = forms.ModelChoiceField(label=_("Acts as"), queryset=User.objects.none())
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=OrganizationAPIKey.Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_in_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=366, initial=90)

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.filter(
            organization=actor.organization, is_active=True, suspended_at__isnull=True
        )
        if not actor.is_manager:
            people = people.filter(pk=actor.pk)
        self.fields["holder"].queryset = people.order_by("username")
        self.fields["holder"].initial = actor.pk


class AgentProposalForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Staff member"), queryset=User.objects.none())
    agent_number = forms.CharField(
        label=_("Agent certificate number"),
        max_length=64,
        validators=[validate_visible_text],
        help_text=_("As printed on the customs agent's professional certificate."),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            User.objects.filter(organization=organization, role__in=AGENT_ROLES, is_active=True)
            .exclude(agent_profile__isnull=False)
            .exclude(pk__in=AgentProposal.objects.filter(status=AgentProposal.Status.PROPOSED).values("user"))
            .order_by("last_name", "first_name")
        )
        # Family name first, as Vietnamese names are written.
        self.fields["user"].label_from_instance = lambda person: (
            f"{person.last_name} {person.first_name} ({person.username})"
        )


class LicenceApplicationForm(forms.Form):
    licence_number = forms.CharField(
        label=_("Licence number, if customs already issued one"),
        max_length=64,
        required=False,
        validators=[validate_visible_text],
    )
    contact_name = forms.CharField(
        label=_("Contact person"), max_length=150, validators=[validate_visible_text]
    )
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20)
    contact_email = forms.EmailField(label=_("Contact email"))

    def clean_contact_phone(self) -> str:
        return normalize_phone(self.cleaned_data["contact_phone"])
