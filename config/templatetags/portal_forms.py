"""The error summary at the top of a portal page and the "Lỗi: " before its title, in the GOV.UK
pattern: one entry per message, each linking to the field it is about."""

from __future__ import annotations

from django import forms, template
from django.utils.translation import gettext

register = template.Library()


def _bound_forms(candidates) -> list[forms.BaseForm]:
    # A page passes the names of its forms; an absent one renders as "" and is skipped.
    return [form for form in candidates if isinstance(form, forms.BaseForm) and form.is_bound]


def field_anchor(field: forms.BoundField) -> str:
    """The element a summary link lands on: the input itself, or the first box of a group of
    checkboxes or radio buttons (whose label belongs to the group, not to one input)."""
    return field.id_for_label or f"{field.auto_id}_0"


@register.inclusion_tag("portal/error_summary.html")
def error_summary(*candidates) -> dict:
    entries = []
    for form in _bound_forms(candidates):
        entries += [{"message": message, "href": ""} for message in form.non_field_errors()]
        for field in form:
            anchor = "" if field.is_hidden else f"#{field_anchor(field)}"
            entries += [{"message": message, "href": anchor} for message in field.errors]
    return {"entries": entries}


@register.simple_tag
def error_title_prefix(*candidates) -> str:
    """ "Lỗi: " when any of the page's forms has an error, so that a screen reader hears it first."""
    return gettext("Error: ") if any(form.errors for form in _bound_forms(candidates)) else ""
