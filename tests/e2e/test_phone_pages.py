"""Every portal page on a 390 px phone, signed in as a trader's owner, a trader's signer, a
broker's owner and a broker's agent, with a cast that has lived a while (issue 22, "Phones"): no
page is wider than the screen, and axe-core finds nothing on any of them. The pages come from the
URL conf (tests/portal_pages.py), so a new page is covered without touching this file."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, Journey
from tests.portal_pages import lived_in, portal_urls

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Pages a person reaches with data behind them; each role must reach at least these.
EVERYONE_READS = {"home", "profile", "notifications", "signin_history", "declaration_list", "mandate_list"}


@pytest.mark.parametrize("member", ["trader_owner", "trader_signer", "broker_owner", "broker_agent"])
def test_every_portal_page_fits_a_phone_and_passes_axe(
    browser, axe_source, live_server, settings, world, member, tmp_path
):
    lived_in(world)
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    person = getattr(world, member)
    phone = Journey(
        browser, live_server, member, tmp_path, "198.51.100.10", width=PHONE, axe_source=axe_source
    )
    try:
        phone.sign_in(person)
        read = []
        for name, url in portal_urls(world, person):
            # Asked first with the same cookies: a page that only answers a POST (405) or is not
            # this member's (403, 404) is not one to read, and Chromium will not render an empty one.
            answer = phone.page.request.get(phone.base + url, max_redirects=0)
            if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
                continue
            read.append(name)
            phone.go(url)
        # The folded menu opens without a script and fits too.
        phone.go("/")
        phone.page.locator("details.phone-menu summary").click()
        assert phone.page.locator("details.phone-menu nav a").first.is_visible()
        assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE
    finally:
        phone.context.close()
    assert set(read) >= EVERYONE_READS
    assert len(phone.audited) >= len(read), "every page read was audited"
    assert phone.overflows == []
    assert phone.accessibility == []
    assert phone.csp_violations == []
