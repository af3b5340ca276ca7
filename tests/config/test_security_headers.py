"""Browser-side protections on every response: a Content Security Policy that allows no script
except our own files, frame denial, referrer and opener policies, and HSTS behind HTTPS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"\sstyle\s*=|<style\b", re.IGNORECASE)


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/api/v1/docs/", "/api/v1/schema/", "/healthz", "/no-such-page/"]
)
def test_every_response_carries_the_policy(client, path):
    response = client.get(path)
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    # Inline styles only where Swagger UI needs them (issue "Hardening", finding 11).
    assert policy["style-src"] == (["'self'", "'unsafe-inline'"] if path == "/api/v1/docs/" else ["'self'"])
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_signed_in_pages_carry_it_too(client, trader_owner):
    sign_in(client, trader_owner.username)
    for name in ("profile", "declaration_list", "certificate_list", "mfa"):
        response = client.get(reverse(name))
        assert response.status_code == 200 and _policy(response)["script-src"] == ["'self'"], name


def test_no_template_or_chart_has_an_inline_script_event_handler_or_style():
    offenders = []
    for template in [*ROOT.glob("*/templates/**/*.html"), ROOT / "officers" / "charts.py"]:
        text = template.read_text()
        if INLINE_SCRIPT.search(text) or EVENT_HANDLER.search(text) or INLINE_STYLE.search(text):
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


def test_the_api_docs_load_their_start_up_script_as_a_file(client):
    page = client.get(reverse("api_docs")).content.decode()
    assert not INLINE_SCRIPT.search(page)
    script = client.get(reverse("api_docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_behind_https_browsers_are_told_to_stay_on_it(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    # Never over plain HTTP, where it would mean nothing and could be forged.
    assert "Strict-Transport-Security" not in client.get("/accounts/login/")
