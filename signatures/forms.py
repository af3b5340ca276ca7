from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User
from accounts.validators import validate_citizen_id
from core.text import validate_visible_text


class CertificateUploadForm(forms.Form):
    certificate = forms.FileField(
        label=_("Signing certificate"),
        help_text=_("The certificate file (.cer, .crt, .pem or .der), without its private key."),
    )
    signer_name = forms.CharField(
        label=_("Signer's full name"), max_length=150, validators=[validate_visible_text]
    )
    signer_id_number = forms.CharField(
        label=_("Signer's ID number (CCCD)"), max_length=12, validators=[validate_citizen_id]
    )
    signer_title = forms.CharField(
        label=_("Signer's title"), max_length=150, required=False, validators=[validate_visible_text]
    )


class ProofForm(forms.Form):
    proof = forms.FileField(
        label=_("Signature of the challenge"),
        help_text=_("proof.sig (openssl dgst) or proof.p7s (openssl cms)."),
    )


class CustodiansForm(forms.Form):
    custodians = forms.ModelMultipleChoiceField(
        label=_("Signers allowed to sign with this certificate"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["custodians"].queryset = User.objects.filter(
            organization=organization, role=User.Role.SIGNER, is_active=True
        ).order_by("last_name", "first_name")
        self.fields["custodians"].label_from_instance = lambda user: (
            f"{user.get_full_name()} ({user.username})"
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class AbuseReportForm(forms.Form):
    description = forms.CharField(
        label=_("What happened?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    reported_user = forms.ModelChoiceField(
        label=_("Which account was misused?"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("None: only the signature"),
    )
    certificates = forms.ModelMultipleChoiceField(
        label=_("Certificates to suspend now"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("All of them unless you choose."),
    )

    def __init__(self, *args, organization, certificates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reported_user"].queryset = User.objects.filter(organization=organization)
        self.fields["certificates"].queryset = certificates


class DeclarationForm(forms.Form):
    number = forms.CharField(label=_("Declaration number"), max_length=32, validators=[validate_visible_text])
    kind = forms.ChoiceField(label=_("Kind"), choices=[("import", _("Import")), ("export", _("Export")),
                                                        ("transit", _("Transit"))])  # fmt: skip
    trader_tax_code = forms.CharField(label=_("Trader's tax code"), max_length=20)
    document = forms.FileField(label=_("Declaration file"), help_text=_("The exact file that was signed."))
    signature = forms.FileField(
        label=_("Signature (.p7s)"), help_text=_("The detached CMS signature your signing tool made.")
    )


class SignatureNoticeForm(forms.Form):
    notice = forms.ChoiceField(
        label=_("Tell us of signatures made in our name"),
        choices=Organization.SignatureNotice.choices,
        widget=forms.RadioSelect,
    )


class SignatureSearchForm(forms.Form):
    """The officers' "who signed which declaration" search: at least one criterion, a sane range."""

    declaration_number = forms.CharField(label=_("Declaration number"), max_length=32, required=False)
    tax_code = forms.CharField(label=_("Tax code (trader or signer)"), max_length=14, required=False)
    certificate = forms.CharField(
        label=_("Certificate serial or SHA-256 fingerprint"),
        max_length=100,
        required=False,
    )
    agent_number = forms.CharField(label=_("Agent number"), max_length=64, required=False)
    user = forms.CharField(label=_("Signer's username"), max_length=150, required=False)
    date_from = forms.DateField(label=_("From (inclusive)"), required=False)
    date_to = forms.DateField(label=_("To (inclusive)"), required=False)

    CRITERIA = ("declaration_number", "tax_code", "certificate", "agent_number", "user")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not any((data.get(name) or "").strip() for name in self.CRITERIA):
            raise forms.ValidationError(
                _("Give at least one of: declaration number, tax code, certificate, agent number, user."),
                code="no_criteria",
            )
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error(
                "date_to",
                forms.ValidationError(_("The end date is before the start date."), code="impossible_range"),
            )
        return data

    def criteria(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}


class _RegistryFileForm(forms.Form):
    """A file an officer uploads to the registry: refused early when empty, too big or of a kind
    the service cannot read; the service then refuses what does not parse or verify."""

    file_field = ""
    extensions: tuple[str, ...] = ()
    max_bytes = 1024 * 1024

    def clean(self):
        data = super().clean()
        upload = data.get(self.file_field)
        if upload is None:
            return data
        name = (upload.name or "").lower()
        if self.extensions and not name.endswith(self.extensions):
            self.add_error(
                self.file_field,
                forms.ValidationError(
                    _("Unsupported file type; use one of: %(types)s.")
                    % {"types": ", ".join(self.extensions)},
                    code="unsupported_file",
                ),
            )
            return data
        if upload.size == 0:
            self.add_error(self.file_field, forms.ValidationError(_("The file is empty."), code="empty_file"))
            return data
        if upload.size > self.max_bytes:
            self.add_error(
                self.file_field,
                forms.ValidationError(
                    _("The file is too large (at most %(size)s bytes).") % {"size": self.max_bytes},
                    code="file_too_large",
                ),
            )
            return data
        data[self.file_field] = upload.read()
        return data


class IssuerUploadForm(_RegistryFileForm):
    file_field = "certificate"
    extensions = (".pem", ".crt", ".cer", ".der")
    max_bytes = 64 * 1024

    certificate = forms.FileField(
        label=_("CA certificate"), help_text=_("PEM or DER (.pem, .crt, .cer, .der), root or intermediate.")
    )
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    crl_url = forms.URLField(
        assume_scheme="https",
        label=_("Revocation list address"),
        required=False,
        help_text=_("Read from the certificate if empty."),
    )


class CrlUploadForm(_RegistryFileForm):
    file_field = "crl"
    extensions = (".crl", ".pem", ".der")
    max_bytes = 20 * 1024 * 1024

    crl = forms.FileField(label=_("Revocation list (CRL)"), help_text=_("PEM or DER (.crl, .pem, .der)."))
