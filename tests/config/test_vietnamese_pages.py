"""Every portal page, in Vietnamese, as each kind of member sees it with a lived-in enterprise
behind it (issue 22): no raw choice code ("import", "revoked", "high", "certificate_not_bound")
and no English sentence reaches the reader. The pages come from the URL conf and the codes from
the models' choices, so a new page or a new choice is covered without touching this file."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse

from accounts.models import Organization
from accounts.notices import DETECTOR_NAMES, RESPONSE_LABELS
from core.error_codes import ERROR_CODES
from tests.helpers import sign_in
from tests.portal_pages import lived_in, portal_urls

pytestmark = pytest.mark.django_db

OUR_APPS = ("accounts", "audit", "brokers", "signatures", "risk", "officers")
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

    # Commands and file names the reader types as they are (csg-sign's and openssl's options).
    LITERAL = ("script", "style", "template", "pre", "code", "kbd", "samp")

    def handle_starttag(self, tag, attrs):
        if tag in self.LITERAL:
            self._hidden += 1
        values = dict(attrs)
        self.parts += [values[name] for name in self.SPOKEN if values.get(name)]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in self.LITERAL and self._hidden:
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
    read, problems = [], []
    for name, url in portal_urls(world, person):
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        read.append(name)
        html = response.content.decode()
        assert '<html lang="vi">' in html, name
        # The working-hours picker names each zone by its offset: the times shown are stated once.
        shown = re.sub(r'<select name="time_zone".*?</select>', "", html, flags=re.S)
        assert shown.count("(UTC+07:00)") == 1, f"{name} states its time zone once"
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
