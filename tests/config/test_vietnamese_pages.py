"""Every portal page, in Vietnamese, as each kind of member sees it with a lived-in enterprise
behind it (issue 22): no raw choice code ("import", "revoked", "high", "certificate_not_bound")
and no English sentence reaches the reader. The pages come from the URL conf and the codes from
the models' choices, so a new page or a new choice is covered without touching this file."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Organization, StaffInvitation
from accounts.notices import DETECTOR_NAMES, RESPONSE_LABELS
from accounts.services.staff import staff_invite
from brokers.models import Authorization
from brokers.services.api_keys import api_key_create
from brokers.services.mandates import (
    authorization_accept,
    authorization_grant,
    authorization_invite,
    authorization_revoke,
)
from core.error_codes import ERROR_CODES
from signatures.services.notices import declarations_notice
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

OUR_APPS = ("accounts", "audit", "brokers", "signatures", "risk", "officers")
# Not portal pages: the API, the officers' console (its own test), machine answers, and actions
# that only answer a POST or a script.
SKIPPED_PREFIXES = ("api/", "officers/", "static/")
SKIPPED_NAMES = {"healthz", "set_language", "logout", "password_strength", "certificate_challenge"}

# Sentences seen leaking in English on Vietnamese pages, and the words no Vietnamese sentence
# holds; a page's own data (names, numbers, e-mail addresses) has none of them.
ENGLISH_PHRASES = (
    "This password is too short", "validation failed", "candidates exhausted",
    "The document is not the one that was signed", "This is not an X.509 certificate",
    "This field is required", "Skip to main content", "Toggle theme", "Show counts",
)  # fmt: skip
ENGLISH_WORDS = re.compile(
    r"\b(?:the|and|your|you|this|with|was|were|are|has|have|been|must|please|of)\b", re.I
)
# A code is a whole token: "trader" in "trader.owner" or "/import/" is a username or a path.
TOKEN_EDGE = r"[\w./@:=-]"


def choice_codes() -> set[str]:
    """Every value of every choices class our models declare (nested in a model or at the top of
    a models module), plus the codes people could be shown instead of words."""
    classes = set()
    for label in OUR_APPS:
        config = apps.get_app_config(label)
        for owner in [config.models_module, *config.get_models()]:
            if owner is None:  # an app without models
                continue
            for value in vars(owner).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, models.Choices)
                    and value is not models.Choices
                ):
                    classes.add(value)
    codes = {str(value) for choices in classes for value in choices.values}
    codes |= set(ERROR_CODES) | set(DETECTOR_NAMES) | set(RESPONSE_LABELS)
    codes |= set(Organization.CHANNELS.values())
    return {code for code in codes if len(code) >= 3 and re.fullmatch(r"[a-z][a-z_.]*", code)}


class VisibleText(HTMLParser):
    """The words a reader sees or hears: text nodes and the attributes read aloud or shown."""

    SPOKEN = ("title", "alt", "placeholder", "aria-label")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        values = dict(attrs)
        self.parts += [values[name] for name in self.SPOKEN if values.get(name)]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.parts


def findings(html: str, codes: set[str]) -> list[str]:
    found = []
    for text in visible_text(html):
        for code in codes:
            if code in text and re.search(rf"(?<!{TOKEN_EDGE}){re.escape(code)}(?!{TOKEN_EDGE})", text):
                found.append(f"code {code!r} in {text!r}")
        found += [f"English {phrase!r} in {text!r}" for phrase in ENGLISH_PHRASES if phrase in text]
        found += [f"English {match!r} in {text!r}" for match in ENGLISH_WORDS.findall(text)]
        # The zone is stated once per page (the footer), never inside a sentence.
        found += [f"zone {zone!r} in {text!r}" for zone in re.findall(r"\(\w+/\w+\)", text)]
    return found


def portal_routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield prefix + str(pattern.pattern), pattern

    seen = {}
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or pattern.name in SKIPPED_NAMES:
            continue
        seen.setdefault(pattern.name, pattern)
    return seen


def lived_in(world):
    """The cast after some weeks of work: accepted and refused signatures and their notices,
    mandates proposed, revoked and in force, a pending staff invitation, an API key."""
    world.sign(world.trader_signer, world.trader_key)
    world.sign(world.broker_agent, world.broker_key)
    world.sign(world.trader_signer, world.trader_key, tamper=True)  # signature_digest_mismatch
    world.sign(world.broker_agent, world.trader_key)  # certificate_foreign_use, flagged
    declarations_notice(now=timezone.now())
    today = timezone.localdate()
    transit = authorization_grant(
        actor=world.trader_owner, broker=world.broker, scopes=["transit"], representation="indirect",
        contract_number="HĐ-02", valid_from=today, valid_until=today + datetime.timedelta(days=30),
    )  # fmt: skip
    authorization_accept(mandate=transit, actor=world.broker_owner)
    authorization_revoke(mandate=transit, actor=world.trader_owner, reason="Hết hợp đồng")
    authorization_invite(
        actor=world.broker_owner, trader_tax_code=world.trader.tax_code,
        trader_registered_on=world.trader.created_at.astimezone().date(), scopes=["export"],
        representation="direct", contract_number="HĐ-03",
        valid_from=today + datetime.timedelta(days=10), valid_until=today + datetime.timedelta(days=60),
    )  # fmt: skip
    staff_invite(
        actor=world.trader_owner, email="lan.tran@hoabinh.example", first_name="Lan", last_name="Trần Thị",
        national_id_number="001203004567", role="declarant",
    )  # fmt: skip
    api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="Phần mềm khai báo", scopes=["read"]
    )
    assert Authorization.objects.filter(status="revoked").exists()


def url_arguments(world, member):
    """The object each URL names, as this member would reach it from their own pages."""
    own_certificate = (
        world.trader_certificate if member.organization_id == world.trader.pk else world.broker_certificate
    )
    colleague = world.trader_signer if member.organization_id == world.trader.pk else world.broker_agent
    return {
        "staff_member": {"pk": colleague.pk},
        "staff_invitation_cancel": {"pk": StaffInvitation.objects.get().pk},
        "certificate_detail": {"pk": own_certificate.pk},
        "certificate_proof": {"pk": own_certificate.pk},
        "mandate_action": {"pk": world.mandate.pk},
        "invitation_accept": {"token": "het-han"},
        "verify_email": {"token": "het-han"},
        "signin_review": {"token": "het-han"},
    }


@pytest.mark.parametrize("member", ["trader_owner", "trader_signer", "broker_owner", "broker_agent"])
def test_every_portal_page_reads_in_vietnamese_without_raw_codes(
    world, member, django_capture_on_commit_callbacks
):
    lived_in(world)
    person = getattr(world, member)
    # No working day at all: every sign-in is off hours, so the history has a reason to show.
    Organization.objects.update(working_days="")
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_in(client, person.username).status_code == 302
    codes = choice_codes()
    arguments = url_arguments(world, person)
    read, problems = [], []
    for name, pattern in sorted(portal_routes().items()):
        url = reverse(name, kwargs=arguments.get(name) if pattern.pattern.converters else None)
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        read.append(name)
        html = response.content.decode()
        assert '<html lang="vi">' in html, name
        assert html.count("(UTC+07:00)") == 1, f"{name} states its time zone once"
        problems += [f"{name}: {finding}" for finding in findings(html, codes)]
    # Pages every member reaches: the check cannot pass by reading nothing.
    assert {"home", "profile", "notifications", "signin_history", "declaration_list", "mandate_list"} <= set(
        read
    )
    assert problems == [], "\n".join(problems)
    history = client.get(reverse("signin_history")).content.decode()
    assert "ngoài giờ làm việc" in history  # the off-hours reason, in words, without its zone


def test_the_raw_code_check_catches_codes_and_english_and_spares_usernames_and_paths():
    codes = choice_codes()
    assert {"import", "revoked", "high", "trader", "green", "certificate_not_bound", "new_device"} <= codes
    caught = findings(
        "<p>Phạm vi: import</p><p title='Kênh green'>x</p><td>certificate_not_bound</td>"
        "<p>Mật khẩu: This password is too short.</p><p>Xem your account</p>"
        "<p>Đăng nhập lúc 23:10 (Asia/Ho_Chi_Minh)</p>",
        codes,
    )
    assert sorted(f.split("'")[1] for f in caught if f.startswith("code")) == [
        "certificate_not_bound",
        "green",
        "import",
        "password",
    ]
    assert len([f for f in caught if f.startswith("English")]) >= 3
    assert [f for f in caught if f.startswith("zone")] == [
        "zone '(Asia/Ho_Chi_Minh)' in 'Đăng nhập lúc 23:10 (Asia/Ho_Chi_Minh)'"
    ]
    spared = "<p>trader.owner (trader.owner@example.test) · /brokers/import/ · Công ty TNHH Hòa Bình</p>"
    assert findings(spared, codes) == []
