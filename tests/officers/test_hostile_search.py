"""The console's searches refuse a NUL and survive odd values, never with a 500 (issue
"Hardening", finding 4): every list of the console, from its URL patterns."""

from __future__ import annotations

import pytest

from tests.officers.test_console_access import console_urls
from tests.test_hostile_input import ODD

pytestmark = pytest.mark.django_db


def test_every_console_list_refuses_a_nul_in_its_search_and_survives_odd_values(console):
    client = console("administrator")
    lists = [url for url in console_urls() if url.count("/") == 4 and "/1/" not in url and "-" not in url]
    assert "/officers/audit/flag/" in lists and "/officers/signatures/certificate/" in lists, lists
    for url in lists:
        response = client.get(url, {"q": "\x00"})
        assert response.status_code == 400, (url, response.status_code)
        assert b"Null characters are not allowed." in response.content
        for value in ODD:  # searched for as typed; a page or an order that is not one is ignored
            response = client.get(url, {"q": value, "p": value, "o": value})
            assert response.status_code == 200, (url, value, response.status_code)
