"""The admin's own words that Django ships no Vietnamese for (its ``vi`` catalogue predates them):
the console's skip link, theme toggle, count toggle, breadcrumbs label and the like.

Naming them here puts them in our catalogue (``makemessages`` keeps what the source names), whose
translations ``LOCALE_PATHS`` ranks above Django's; the console's templates stay the admin's.
``tests/officers/test_console_vietnamese.py`` fails when Django adds one we do not translate."""

from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext_lazy

ADMIN_STRINGS = (
    gettext_noop("Skip to main content"),
    gettext_noop("Breadcrumbs"),
    gettext_noop("Toggle theme (current theme: auto)"),
    gettext_noop("Toggle theme (current theme: light)"),
    gettext_noop("Toggle theme (current theme: dark)"),
    gettext_noop("Show counts"),
    gettext_noop("Hide counts"),
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
    gettext_noop("Added:"),
    gettext_noop("Changed:"),
    gettext_noop("Deleted:"),
    gettext_noop("Toggle navigation"),
    gettext_noop("Sidebar"),
    gettext_noop("Filter navigation items"),
    gettext_noop("View selected %(model)s"),
    gettext_noop("Select all objects on this page for an action"),
    gettext_noop("Select this object for an action - {}"),
    gettext_noop("Forgotten your login credentials?"),
)
HISTORY_ENTRIES = ngettext_lazy("entry", "entries", "count")
