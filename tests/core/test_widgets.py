"""The written-out inputs give the same element as Django's templates, whatever the value."""

from __future__ import annotations

import datetime

from django import forms
from django.test.html import parse_html
from hypothesis import given
from hypothesis import strategies as st

from core.widgets import WrittenDateInput, WrittenTextInput
from signatures.forms import SignatureSearchForm


class Both(forms.Form):
    written = forms.CharField(max_length=14, required=False, widget=WrittenTextInput)
    templated = forms.CharField(max_length=14, required=False)
    written_date = forms.DateField(required=True, widget=WrittenDateInput)
    templated_date = forms.DateField(required=True, widget=forms.DateInput)


def _same(form: Both, written: str, templated: str) -> None:
    mine, django = str(form[written]), str(form[templated])
    # A value's quotes are escaped, so these are always the name and id attributes (and the ids of
    # the error list they point to), never a value.
    mine = mine.replace(f'name="{written}"', f'name="{templated}"').replace(
        f'"id_{written}', f'"id_{templated}'
    )
    assert parse_html(mine) == parse_html(django)


@given(st.text(max_size=30))
def test_any_text_value_is_written_as_django_writes_it(value):
    form = Both({"written": value, "templated": value, "written_date": value, "templated_date": value})
    form.is_valid()  # errors add aria-invalid
    _same(form, "written", "templated")
    _same(form, "written_date", "templated_date")


def test_unbound_initial_and_date_values():
    _same(Both(), "written", "templated")
    _same(Both(), "written_date", "templated_date")
    day = datetime.date(2026, 12, 1)
    form = Both(initial={"written_date": day, "templated_date": day, "written": 5, "templated": 5})
    _same(form, "written", "templated")
    _same(form, "written_date", "templated_date")


def test_markup_in_a_value_stays_text():
    form = SignatureSearchForm({"tax_code": '"><script>alert(1)</script>'})
    written = str(form["tax_code"])
    assert "<script>" not in written and "&quot;&gt;&lt;script&gt;" in written


def test_the_search_forms_use_them():
    from brokers.forms import DirectorySearchForm

    for form in (SignatureSearchForm(), DirectorySearchForm()):
        assert all(
            isinstance(field.widget, WrittenTextInput | WrittenDateInput) for field in form.fields.values()
        )
