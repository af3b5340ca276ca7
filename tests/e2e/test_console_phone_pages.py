"""Every page of the officer console on a 390 px phone, signed in as an officer of every group,
with a cast that has lived a while: no page is wider than the screen (wide tables scroll inside
their own named, keyboard-reachable region), and axe-core finds nothing on any of them. The pages
come from the officer site's URL patterns (tests/console_pages.py), so a new page is covered
without touching this file."""

from __future__ import annotations

import pytest

from tests.console_pages import console_lived_in, console_urls
from tests.e2e.conftest import PHONE, Journey
from tests.officers.helpers import officer_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Pages an officer reaches with data behind them; the console must show at least these.
EVERY_OFFICER_READS = {
    "index", "who_signed", "audit_flag_changelist", "audit_flag_change", "audit_case_changelist",
    "audit_case_change", "accounts_organization_changelist", "accounts_organization_change",
    "signatures_certificate_changelist", "brokers_licenceapplication_changelist",
    "brokers_licenceapplication_change", "brokers_brokerlicence_changelist", "brokers_brokerlicence_change",
    "brokers_agentproposal_changelist", "issuer_upload", "crl_upload",
}  # fmt: skip


def test_every_console_page_fits_a_phone_and_passes_axe(
    browser, axe_source, live_server, settings, world, tmp_path
):
    console_lived_in(world)
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    officer = officer_in("administrator")
    phone = Journey(
        browser, live_server, "officer", tmp_path, "198.51.100.20", width=PHONE, axe_source=axe_source
    )
    try:
        phone.sign_in(officer, console=True)
        read = []
        for name, url in console_urls():
            # Asked first with the same cookies: an action not open for this object's state (404)
            # or a page that only answers a POST is not one to read.
            answer = phone.page.request.get(phone.base + url, max_redirects=0)
            if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
                continue
            read.append(name.split(":")[0])
            phone.go(url)
        # A list's table scrolls sideways inside its own region, which a keyboard reaches and a
        # screen reader names; the filters come below it.
        page = phone.go("/officers/audit/flag/")
        region = page.locator("#changelist-form .table-scroll[role=region][tabindex='0']")
        assert region.get_attribute("aria-label")
        assert region.evaluate("box => box.scrollWidth > box.clientWidth"), "the table does not scroll"
        results = region.bounding_box()
        assert page.locator("#changelist-filter").bounding_box()["y"] >= results["y"] + results["height"]
        phone.shot("flags")
        # The folded header opens without a script, leads to every console page and fits too.
        phone.go("/officers/")
        assert not phone.page.locator("#user-tools").is_visible()
        phone.page.locator("details.console-menu summary").click()
        assert phone.page.locator("details.console-menu a[href='/officers/who-signed/']").is_visible()
        assert phone.page.locator("details.console-menu button", has_text="Đăng xuất").is_visible()
        assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE
        phone.shot("menu")
    finally:
        phone.context.close()
    assert set(read) >= EVERY_OFFICER_READS, EVERY_OFFICER_READS - set(read)
    assert len(phone.audited) >= len(set(read)), "every page read was audited"
    assert phone.overflows == []
    assert phone.accessibility == []
    assert phone.csp_violations == []
