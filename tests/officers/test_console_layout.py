"""The console's frame without a browser (the browser test is tests/e2e/test_console_phone_pages.py):
every page loads the portal's table regions and the console's rules after the admin's, lists put
their table in a named region a keyboard reaches, and the header's links are also in a "Menu"."""

from __future__ import annotations

import re

import pytest

from audit.models import Flag
from tests.officers.test_queue import make_flag

pytestmark = pytest.mark.django_db


def test_a_list_s_table_is_in_a_named_keyboard_region_and_the_header_folds(console, trader):
    make_flag(trader)
    body = console("viewer").get("/officers/audit/flag/").content.decode()
    assert re.search(r'<div class="table-scroll" tabindex="0" role="region" aria-label="Table: Flags">\s*'
                     r'<div class="results">', body)  # fmt: skip
    stylesheets = re.findall(r'<link rel="stylesheet" href="/static/([^"]+)"', body)
    assert stylesheets.index("admin/css/responsive.css") < stylesheets.index("portal/table-scroll.css")
    assert stylesheets.index("portal/table-scroll.css") < stylesheets.index("officers/console.css")
    assert stylesheets.count("officers/console.css") == 1
    menu = re.search(r'<details class="console-menu">.*?</details>', body, re.S).group(0)
    assert 'href="/officers/who-signed/"' in menu and 'action="/officers/logout/"' in menu
    assert Flag.objects.count() == 1


def test_pages_of_the_console_s_own_share_the_frame(console):
    client = console("registrar")
    for url in ("/officers/", "/officers/who-signed/", "/officers/trusted-issuers/add/", "/officers/audit/"):
        body = client.get(url).content.decode()
        assert "/static/officers/console.css" in body, url
        assert 'class="console-menu"' in body, url
