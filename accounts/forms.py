from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts import time_zones
from accounts.models import WEEKDAY_NAMES, Organization, User
from accounts.password_validation import password_verdict, typed_person
from accounts.services.mfa import mfa_verify
from accounts.validators import normalize_phone, normalize_tax_code, validate_citizen_id
from core.text import validate_visible_text


def own_password(user, password: str, message: str) -> str:
    """``password`` if it is ``user``'s own, else the form error ``wrong_password``."""
    if not user.check_password(password):
        raise ValidationError(message, code="wrong_password")
    return password


class LoginForm(AuthenticationForm):
    """Django's sign-in form with our labels and one message per empty field: submitted empty,
    the page says what is missing instead of nothing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["username"].error_messages["required"] = _("Enter your username.")
        self.fields["password"].label = _("Password")
        self.fields["password"].error_messages["required"] = _("Enter your password.")


class ServiceErrorsMixin:
    """Shows a service's ``ValidationError`` on this form: model field names are mapped through
    ``FIELD_OF``; errors without a field go to ``UNFIELDED``."""

    FIELD_OF: dict[str, str] = {}
    UNFIELDED: str | None = None

    def add_service_errors(self, error: ValidationError) -> None:
        by_field = error.error_dict if hasattr(error, "error_dict") else {self.UNFIELDED: error.error_list}
        for field, errors in by_field.items():
            name = self.FIELD_OF.get(field, field)
            self.add_error(name if name in self.fields else None, errors)


STRENGTH_LABELS = (_("Very weak"), _("Weak"), _("Fair"), _("Strong"), _("Very strong"))
STRENGTH_CONTEXT_FIELDS = (
    "username", "first_name", "last_name", "email", "owner_email", "phone", "owner_phone", "tax_code", "name",
    "national_id_number",
)  # fmt: skip


class NewPasswordForm(ServiceErrorsMixin, forms.Form):
    """A new password typed twice; the policy itself is applied by the service that sets it.

    The strength meter beside it is filled by static/accounts/strength.js while typing; without
    JavaScript, the answer to a submitted form shows the same score."""

    strength_user = None  # whose own data counts as context, when there is an account already

    @cached_property
    def strength(self) -> int | None:
        password = self.data.get("password1", "") if self.is_bound else ""
        if not password:
            return None
        typed = {name: str(self.data.get(name, ""))[:255] for name in STRENGTH_CONTEXT_FIELDS}
        return password_verdict(password, self.strength_user or typed_person(typed))[0]

    @property
    def strength_label(self) -> str:
        return "" if self.strength is None else STRENGTH_LABELS[self.strength]

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html,
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error(
                "password2", ValidationError(_("The two passwords differ."), code="password_mismatch")
            )
        return cleaned


class RegistrationForm(NewPasswordForm):
    """An enterprise and its owner, as the customs authority's registration asks (DESIGN §4)."""

    # The enterprise's nine fields first (the template splits them into two fieldsets), then the
    # owner's, then the inherited password fields.
    field_order = [
        "kind", "tax_code", "name", "address", "province", "phone", "email",
        "legal_representative_name", "legal_representative_id_number",
        "username", "last_name", "first_name", "owner_email", "owner_phone", "national_id_number",
        "job_title", "password1", "password2",
    ]  # fmt: skip

    kind = forms.ChoiceField(
        label=_("The enterprise is"),
        choices=Organization.Kind.choices,
        initial=Organization.Kind.TRADER,
        required=False,
        help_text=_("A customs broker applies for its brokerage licence once registered."),
    )
    tax_code = forms.CharField(
        label=_("Tax code"), max_length=20, help_text=_("10 digits, or 10 digits-branch.")
    )
    name = forms.CharField(label=_("Enterprise name"), max_length=255, validators=[validate_visible_text])
    address = forms.CharField(label=_("Address"), max_length=500, validators=[validate_visible_text])
    province = forms.CharField(label=_("Province or city"), max_length=64, validators=[validate_visible_text])
    phone = forms.CharField(label=_("Enterprise phone"), max_length=20)
    email = forms.EmailField(label=_("Enterprise email"))
    legal_representative_name = forms.CharField(
        label=_("Legal representative"), max_length=150, validators=[validate_visible_text]
    )
    legal_representative_id_number = forms.CharField(
        label=_("Legal representative's ID number (CCCD)"), max_length=12, validators=[validate_citizen_id]
    )
    username = forms.CharField(label=_("Your username"), max_length=150, validators=[validate_visible_text])
    # Family name (with any middle names) first, as a Vietnamese name is written.
    last_name = forms.CharField(label=_("Family name"), max_length=150, validators=[validate_visible_text])
    first_name = forms.CharField(label=_("Given name"), max_length=150, validators=[validate_visible_text])
    owner_email = forms.EmailField(label=_("Your email"))
    owner_phone = forms.CharField(label=_("Your phone"), max_length=20)
    national_id_number = forms.CharField(
        label=_("Your ID number (CCCD)"), max_length=12, validators=[validate_citizen_id]
    )
    job_title = forms.CharField(
        label=_("Your job title"), max_length=150, required=False, validators=[validate_visible_text]
    )

    def clean_kind(self) -> str:
        # Most enterprises are traders: a form posted without the choice registers one.
        return self.cleaned_data["kind"] or Organization.Kind.TRADER

    def clean_tax_code(self) -> str:
        tax_code = normalize_tax_code(self.cleaned_data["tax_code"])
        if Organization.objects.filter(tax_code=tax_code).exists():
            raise ValidationError(
                _("An enterprise with this tax code is already registered. Ask its owner to invite you."),
                code="duplicate_tax_code",
            )
        return tax_code

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    def clean_owner_phone(self) -> str:
        return normalize_phone(self.cleaned_data["owner_phone"])

    def organization_data(self) -> dict:
        data = self.cleaned_data
        fields = ("tax_code", "name", "address", "province", "phone", "email", "legal_representative_name")
        return {field: data[field] for field in fields} | {
            "legal_representative_id_number": data["legal_representative_id_number"]
        }

    def owner_data(self) -> dict:
        data = self.cleaned_data
        return {
            "username": data["username"],
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "email": data["owner_email"],
            "phone": data["owner_phone"],
            "national_id_number": data["national_id_number"],
            "job_title": data["job_title"],
        }

    # Errors the service raises for model fields, shown on this form's own fields.
    FIELD_OF = {"email": "owner_email", "phone": "owner_phone", "password": "password1"}
    UNFIELDED = "password1"


class PasswordChangeForm(NewPasswordForm):
    """Re-authenticates with the current password; the service applies every policy rule."""

    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    field_order = ["current_password", "password1", "password2"]

    def __init__(self, user, *args, **kwargs):
        self.user = self.strength_user = user
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = _("New password")
        self.fields["password2"].label = _("New password again")

    def clean_current_password(self) -> str:
        return own_password(
            self.user, self.cleaned_data["current_password"], _("Your current password is not correct.")
        )


class ReauthenticationForm(forms.Form):
    """The password, or for an account with a second factor, a code from it instead (DESIGN §5
    rule 8: "the password or second factor again")."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Or a code from your authenticator"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, user, *args, mfa_enabled: bool = False, code_only: bool = False, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        if not mfa_enabled:
            del self.fields["code"]
        elif code_only:
            # A step-up after a risky sign-in: the password may be exactly what was stolen.
            del self.fields["password"]
            self.fields["code"].label = _("A code from your authenticator")
            self.fields["code"].required = True

    def clean(self):
        cleaned = super().clean()
        password, code = cleaned.get("password"), cleaned.get("code")
        if password:
            own_password(self.user, password, _("Your password is not correct."))
        elif code:
            if mfa_verify(user=self.user, token=code) is None:
                raise ValidationError(_("That code is not right."), code="mfa_code_invalid")
        elif "password" in self.fields:
            raise ValidationError(_("Enter your password."), code="required")
        return cleaned


class MfaCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code your authenticator shows now, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


# What each role may do, beside its name: the owner picks one knowingly (no role is preselected,
# so that nobody becomes an administrator by not looking).
ROLE_EXPLANATIONS = {
    User.Role.ADMINISTRATOR: _("manages staff, certificates and mandates; cannot sign declarations"),
    User.Role.DECLARANT: _("prepares declarations; cannot sign them"),
    User.Role.SIGNER: _("signs declarations with the certificates they are custodian of"),
    User.Role.VIEWER: _("sees declarations, signatures and history; changes nothing"),
}


def role_choices(roles) -> list[tuple[str, str]]:
    return [
        (role.value, format_lazy("{}: {}", role.label, ROLE_EXPLANATIONS[role]))
        if role in ROLE_EXPLANATIONS
        else (role.value, role.label)
        for role in roles
    ]


class StaffInviteForm(ServiceErrorsMixin, forms.Form):
    # Family name (with any middle names) first, as a Vietnamese name is written.
    last_name = forms.CharField(label=_("Family name"), max_length=150, validators=[validate_visible_text])
    first_name = forms.CharField(label=_("Given name"), max_length=150, validators=[validate_visible_text])
    email = forms.EmailField(label=_("Email"))
    national_id_number = forms.CharField(
        label=_("ID number (CCCD)"), max_length=12, validators=[validate_citizen_id]
    )
    job_title = forms.CharField(
        label=_("Job title"), max_length=150, required=False, validators=[validate_visible_text]
    )
    role = forms.ChoiceField(
        label=_("Role"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the person's role.")},
    )

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(roles)


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the person's role.")},
    )

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(roles)


class InvitationAcceptForm(NewPasswordForm):
    username = forms.CharField(
        label=_("Choose a username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    field_order = ["username", "password1", "password2"]

    FIELD_OF = {"password": "password1"}
    UNFIELDED = "password1"


class ContactForm(ServiceErrorsMixin, forms.Form):
    # Family name (with any middle names) first, as a Vietnamese name is written.
    last_name = forms.CharField(label=_("Family name"), max_length=150, validators=[validate_visible_text])
    first_name = forms.CharField(label=_("Given name"), max_length=150, validators=[validate_visible_text])
    email = forms.EmailField(label=_("Email"))
    phone = forms.CharField(label=_("Phone"), max_length=20)
    national_id_number = forms.CharField(
        label=_("ID number (CCCD)"), max_length=12, validators=[validate_citizen_id]
    )
    job_title = forms.CharField(
        label=_("Job title"), max_length=150, required=False, validators=[validate_visible_text]
    )

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


WEEKDAYS = [(str(number), name) for number, name in enumerate(WEEKDAY_NAMES, start=1)]


class TimeZoneField(forms.ChoiceField):
    """Lists the zones people pick (``accounts.time_zones``) and accepts any valid IANA zone too,
    as an enterprise may have declared one before the list was short."""

    def valid_value(self, value) -> bool:
        return super().valid_value(value) or value in zoneinfo.available_timezones()


class WorkingHoursForm(forms.Form):
    """When the enterprise works: sign-ins outside it are noted by the risk engine (``off_hours``)."""

    start = forms.TimeField(label=_("Working day starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(
        label=_("Working day ends"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("An end before the start is a night shift that runs past midnight."),
    )
    days = forms.MultipleChoiceField(
        label=_("Working days"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    time_zone = TimeZoneField(label=_("Time zone"), initial=time_zones.VIETNAM)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The zone stored before stays selected: an old name of a listed zone as the listed one,
        # any other as itself.
        stored = time_zones.canonical(self.initial.get("time_zone") or time_zones.VIETNAM)
        self.initial = {**self.initial, "time_zone": stored}
        self.fields["time_zone"].choices = time_zones.zone_choices(keep=stored)
