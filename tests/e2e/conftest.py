"""Browser journeys: Playwright for Python driving Debian's Chromium (never ``playwright install``)
against pytest-django's live server. Screenshots of every step go to ``tests/e2e/artifacts/``.

Without /usr/bin/chromium the journeys are skipped, except under ``CI=true`` where they fail:
CI installs the browser itself (``apt-get install chromium``)."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Playwright's synchronous API keeps an event loop in the test's thread; the ORM calls the tests
# make between browser steps are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: CI must install chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
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

    def __init__(self, browser, live_server, name: str, directory: Path, address: str, locale: str = "vi-VN"):
        # Each person comes from a network of their own, as the proxy in front of the site reports
        # it: the risk engine would rightly flag one network shared by a trader and a broker.
        self.context = browser.new_context(
            locale=locale,
            viewport={"width": 1280, "height": 900},
            extra_http_headers={"X-Forwarded-For": address},
        )
        self.page = self.context.new_page()
        # Chromium reports what the Content-Security-Policy blocked on its console: every journey
        # must end with none (no inline style or script, no asset from elsewhere).
        self.csp_violations: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.csp_violations.append(f"{self.page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        self.base = live_server.url
        self.name = name
        self.directory = directory
        self.step = 0

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def shot(self, label: str) -> Path:
        self.step += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.name}-{self.step:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def submit(self, field: str):
        """Submit the form holding ``field`` (every page also has the language form)."""
        self.page.click(f"form:has([name={field}]) [type=submit]")
        self.page.wait_for_load_state()
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


@pytest.fixture
def journey(browser, live_server, request, settings):
    directory = ARTIFACTS / request.node.name
    opened = []
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]  # the test harness is the site's proxy

    def open_journey(name: str, locale: str = "vi-VN") -> Journey:
        address = f"198.{18 + len(opened)}.{len(opened) + 1}.10"  # a /24 network per person
        person = Journey(browser, live_server, name, directory, address, locale)
        opened.append(person)
        return person

    yield open_journey
    for person in opened:
        person.context.close()
    violations = [violation for person in opened for violation in person.csp_violations]
    assert violations == [], "\n".join(violations)
