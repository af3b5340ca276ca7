from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from brokers.models import OperationReport


class OperationReportForm(forms.Form):
    """Types only, as the API's serializer: the service checks the period and the ranges, so both
    doors answer with the same codes."""

    period_start = forms.DateField(label=_("Period"), widget=forms.Select)
    declarations_filed = forms.IntegerField(
        label=_("Declarations filed"),
        help_text=_("Customs declarations the broker filed for its clients in the period."),
        widget=forms.NumberInput(attrs={"min": 0}),
    )
    clients_served = forms.IntegerField(
        label=_("Clients served"),
        help_text=_("Traders the broker filed for in the period."),
        widget=forms.NumberInput(attrs={"min": 0}),
    )
    staff_joined = forms.IntegerField(
        label=_("Agent staff who joined"), initial=0, widget=forms.NumberInput(attrs={"min": 0})
    )
    staff_left = forms.IntegerField(
        label=_("Agent staff who left"), initial=0, widget=forms.NumberInput(attrs={"min": 0})
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": OperationReport.NOTES_MAX_LENGTH}),
    )

    def __init__(self, *args, open_periods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period_start"].widget.choices = [
            (item.period.start.isoformat(), item.period.label) for item in open_periods
        ]
