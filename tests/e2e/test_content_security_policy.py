"""No page breaks the Content-Security-Policy (issue "Hardening", finding 11: style-src without
'unsafe-inline'): the portal's pages, the officer console and the API's documentation, in
Chromium, with every violation Chromium reports failing the journey (tests/e2e/conftest.py)."""

from __future__ import annotations

import pytest

from audit.models import Flag
from officers.services.cases import case_open
from tests.officers.helpers import officer_in

pytestmark = pytest.mark.django_db(transaction=True)

PORTAL = [
    "/", "/brokers/", "/accounts/me/", "/accounts/sign-ins/", "/accounts/sessions/", "/accounts/mfa/",
    "/accounts/notifications/", "/accounts/staff/", "/certificates/", "/certificates/upload/",
    "/declarations/", "/brokers/mandates/", "/brokers/api-keys/",
]  # fmt: skip
CONSOLE = ["/officers/", "/officers/audit/flag/", "/officers/audit/case/", "/officers/accounts/organization/",
           "/officers/who-signed/"]  # fmt: skip


def test_the_pages_the_console_and_the_api_docs_keep_to_the_policy(journey, world):
    visitor = journey("visitor", locale="en-GB")
    visitor.go("/api/v1/docs/")
    visitor.page.wait_for_load_state("networkidle")
    assert visitor.page.locator(".swagger-ui .info .title").count() == 1  # rendered, styles and all
    owner = journey("owner")
    owner.sign_in(world.trader_owner)
    for path in PORTAL:
        response = owner.page.goto(owner.base + path)
        assert response.status == 200, path
    officer = journey("officer")
    administrator = officer_in("administrator")
    officer.sign_in(administrator, console=True)
    world.sign(world.broker_agent, world.trader_key)  # refused and flagged: a case with a timeline
    case = case_open(flags=list(Flag.objects.all()), actor=administrator)
    for path in [*CONSOLE, f"/officers/audit/case/{case.pk}/change/"]:
        response = officer.page.goto(officer.base + path)
        assert response.status == 200, path
