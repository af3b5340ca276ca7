"""Text and date inputs written out in Python instead of through the template engine.

Django renders each widget through two templates (``input.html`` including ``attrs.html``); for the
officers' who-signed search, seven of them were a tenth of the page's time (``bench/scale.py``,
issue #10). The attributes are Django's own (``get_context``: ``build_attrs``, ``format_value``,
and what ``BoundField`` adds: ``id``, ``required``, ``aria-invalid``), written as ``attrs.html``
writes them: ``True`` as a bare name, ``False`` left out, everything else escaped.
"""

from __future__ import annotations

import html

from django import forms
from django.utils.safestring import mark_safe


def _attribute(name: str, value) -> str:
    if value is True:
        return f" {name}"
    return f' {name}="{html.escape(str(value))}"'


class _WrittenOut:
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        written = _attribute("type", widget["type"]) + _attribute("name", widget["name"])
        if widget["value"] is not None:
            written += _attribute("value", widget["value"])
        written += "".join(
            _attribute(key, item) for key, item in widget["attrs"].items() if item is not False
        )
        return mark_safe(f"<input{written}>")  # noqa: S308 - every value above is escaped


class WrittenTextInput(_WrittenOut, forms.TextInput):
    pass


class WrittenDateInput(_WrittenOut, forms.DateInput):
    pass
