"""Browser journeys: Playwright for Python driving Debian's Chromium (never ``playwright install``)
against pytest-django's live server. Screenshots of every step go to ``tests/e2e/artifacts/``.

Every journey runs twice, on a desktop (1280 px) and on a phone (390 px). On each page a person
reaches, axe-core checks accessibility (any violation fails the journey) and, on the portal and
the officer console, the page must fit the phone's width without scrolling sideways. axe-core is
injected by the test through the DevTools protocol, never served by the site, so the
Content-Security-Policy is the site's own.

Without /usr/bin/chromium or axe-core (``npm install --prefix .ci axe-core@4``, which .ci/run
does) the journeys are skipped, except under ``CI=true`` where they fail: CI installs both."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE = Path(
    os.environ.get("AXE_CORE", Path(__file__).resolve().parents[2] / ".ci/node_modules/axe-core/axe.min.js")
)
DESKTOP, PHONE = 1280, 390
# Each violation as one line: rule, impact, what it asks, and where (the first three places).
AXE_RUN = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
    v => `${v.id} (${v.impact}): ${v.help} at `
         + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "))"""
# Not ours to fix: the API's interactive documentation is Swagger UI's page.
UNAUDITED_PREFIXES = ("/api/",)
# The API's interactive documentation is Swagger UI's page; the portal and the console fit a phone.
PHONE_PAGES_EXEMPT = ("/api/",)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Playwright's synchronous API keeps an event loop in the test's thread; the ORM calls the tests
# make between browser steps are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _required(path: Path, how: str) -> None:
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: CI must install it ({how})")
        pytest.skip(f"{path} is missing ({how})")


@pytest.fixture(scope="session")
def axe_source() -> str:
    _required(AXE, "npm install --prefix .ci axe-core@4, or set AXE_CORE")
    return AXE.read_text()


@pytest.fixture(scope="session")
def browser(axe_source):
    _required(CHROMIUM, "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        yield browser
        browser.close()


class Journey:
    """One person's browser (its own cookies) and the numbered screenshots of their steps."""

    def __init__(
        self, browser, live_server, name: str, directory: Path, address: str, locale: str = "vi-VN",
        *, width: int = DESKTOP, axe_source: str = "",
    ):  # fmt: skip
        # Each person comes from a network of their own, as the proxy in front of the site reports
        # it: the risk engine would rightly flag one network shared by a trader and a broker.
        self.context = browser.new_context(
            locale=locale,
            viewport={"width": width, "height": 900 if width > PHONE else 844},
            extra_http_headers={"X-Forwarded-For": address},
        )
        self.width = width
        self.axe_source = axe_source
        # What axe-core found and which pages were wider than the screen, page by page.
        self.accessibility: list[str] = []
        self.overflows: list[str] = []
        self.audited: set[str] = set()
        self.page = self.context.new_page()
        # Chromium reports what the Content-Security-Policy blocked on its console: every journey
        # must end with none (no inline style or script, no asset from elsewhere).
        self.csp_violations: list[str] = []
        # axe-core itself adds a <style> while it measures some pages: what the policy blocks
        # then is the test's tool, not the site.
        self.auditing = False
        self.page.on(
            "console",
            lambda message: (
                self.csp_violations.append(f"{self.page.url}: {message.text}")
                if "Content Security Policy" in message.text and not self.auditing
                else None
            ),
        )
        self.base = live_server.url
        self.name = name
        self.directory = directory
        self.step = 0

    def go(self, path: str):
        self.page.goto(self.base + path)
        self.audit()
        return self.page

    def audit(self) -> None:
        """axe-core on the page as it is now, and, on a phone, its width; once per address."""
        path = self.page.url.removeprefix(self.base)
        if not self.axe_source or path.startswith(UNAUDITED_PREFIXES) or path in self.audited:
            return
        self.audited.add(path)
        self.page.wait_for_load_state()
        self.auditing = True
        try:
            if not self.page.evaluate("() => typeof window.axe === 'object'"):
                self.page.evaluate(self.axe_source)
            violations = self.page.evaluate(AXE_RUN)
            self.page.evaluate("() => 0")  # the console messages axe caused are delivered by now
        finally:
            self.auditing = False
        self.accessibility += [f"{self.width}px {path}: {violation}" for violation in violations]
        if self.width <= PHONE and not path.startswith(PHONE_PAGES_EXEMPT):
            width = self.page.evaluate("() => document.documentElement.scrollWidth")
            if width > self.width:
                self.overflows.append(f"{path} is {width}px wide on a {self.width}px screen")

    def shot(self, label: str) -> Path:
        self.audit()
        self.step += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.name}-{self.step:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def submit(self, field: str):
        """Submit the form holding ``field`` (every page also has the language form)."""
        self.page.click(f"form:has([name={field}]) [type=submit]")
        self.page.wait_for_load_state()
        self.audit()
        return self.page

    def sign_in(self, user, *, console: bool = False) -> None:
        """Sign ``user`` in (a factory account: the test password, then the test TOTP code when
        asked), at the portal or at the officer console."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from tests.factories import TEST_PASSWORD, TEST_TOTP_KEY, totp_code

        page = self.go("/officers/login/" if console else "/accounts/login/")
        page.fill("[name=username]", user.username)
        page.fill("[name=password]", TEST_PASSWORD)
        self.submit("password")
        if page.locator("[name=code]").count():
            # django-otp refuses a code twice; each sign-in of a journey is a new step for it.
            TOTPDevice.objects.filter(user=user, key=TEST_TOTP_KEY).update(
                last_t=-1, throttling_failure_count=0
            )
            page.fill("[name=code]", totp_code())
            self.submit("code")

    def sign_out(self) -> None:
        """Through the menu, as a person does: on a phone it is folded under "Menu" first."""
        menu = self.page.locator("details.phone-menu")
        if menu.is_visible() and menu.get_attribute("open") is None:
            menu.locator("summary").click()
        self.page.click("form[action$='/accounts/logout/'] [type=submit]:visible")
        self.page.wait_for_load_state()

    def text(self) -> str:
        return self.page.inner_text("body")


@pytest.fixture
def secrets_of_the_journey(caplog):
    """Passwords and ID numbers a journey types: none may appear in any log record the whole site
    (web requests, tasks) wrote meanwhile, at any level (rule 4)."""
    caplog.set_level(logging.DEBUG)
    typed: list[str] = []
    yield typed
    records = caplog.get_records("setup") + caplog.get_records("call")
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in records)
    assert len(records) > 10, "the journey logged nothing: the check would prove nothing"
    leaked = [value for value in typed if value in logged]
    assert leaked == [], "typed secrets found in the logs"


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def journey(browser, axe_source, live_server, request, settings):
    directory = ARTIFACTS / request.node.name
    opened = []
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]  # the test harness is the site's proxy

    def open_journey(name: str, locale: str = "vi-VN") -> Journey:
        address = f"198.{18 + len(opened)}.{len(opened) + 1}.10"  # a /24 network per person
        person = Journey(
            browser, live_server, name, directory, address, locale, width=request.param, axe_source=axe_source
        )
        opened.append(person)
        return person

    yield open_journey
    for person in opened:
        person.context.close()
    violations = [violation for person in opened for violation in person.csp_violations]
    assert violations == [], "\n".join(violations)
    inaccessible = [finding for person in opened for finding in person.accessibility]
    assert inaccessible == [], "\n".join(inaccessible)
    too_wide = [finding for person in opened for finding in person.overflows]
    assert too_wide == [], "\n".join(too_wide)
    assert any(person.audited for person in opened), "no page was audited: the checks proved nothing"
