"""Form pieces every portal form shares."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

DATE_HINT = _("For example 31/12/2026 (day/month/year).")


class DayField(forms.DateField):
    """A date typed as dd/mm/yyyy in a plain text box, read with the language's
    ``DATE_INPUT_FORMATS`` (config/formats). Browsers' date pickers follow the device's region and
    show many Vietnamese users mm/dd/yyyy, where typing 31/12/2026 is refused."""

    widget = forms.DateInput
    default_error_messages = {
        "invalid": _("Enter a real date as day/month/year, for example 31/12/2026."),
    }

    def __init__(self, *, help_text: str = "", **kwargs):
        hint = format_lazy("{} {}", help_text, DATE_HINT) if help_text else DATE_HINT
        super().__init__(help_text=hint, **kwargs)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "autocomplete": "off", "spellcheck": "false", "size": "10"}
