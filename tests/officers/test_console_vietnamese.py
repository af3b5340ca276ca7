"""The console in Vietnamese: Django's admin chrome translated (its own ``vi`` catalogue lacks the
newer strings), and codes shown by their labels on the dashboard, the queues and a case's page."""

from __future__ import annotations

import datetime
import html
import re
from pathlib import Path

import django
import polib
import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts.models import User
from accounts.services.signins import signin_record
from audit.models import Flag
from officers.chrome import ADMIN_STRINGS
from officers.services.cases import case_note_add, case_open
from tests.officers.helpers import console_sign_in, officer_in

pytestmark = pytest.mark.django_db

ADMIN_LOCALE = Path(django.__file__).parent / "contrib" / "admin" / "locale"
# Admin strings on pages the console never shows: adding users and setting their passwords (the
# portal does that, with our own policy) and the password-reset email.
NOT_IN_THE_CONSOLE = {
    "After you\u2019ve created a user, you\u2019ll be able to edit more user options.",
    "Set password",
    "This action will <strong>enable</strong> password-based authentication for this user.",
    "Disable password-based authentication",
    "Enable password-based authentication",
    "In case you\u2019ve forgotten, you are:",
}
REGISTRY_CODES = {
    *("high", "medium", "low", "trader", "broker", "active", "suspended", "revoked", "import", "direct"),
    *("portal", "api", "succeeded", "failed", "accepted", "rejected", "green", "yellow", "red", "owner"),
    *("signer", "administrator", "declarant", "viewer", "invited", "certificate_foreign_use"),
}
ENGLISH_CHROME = ("Skip to main content", "Toggle theme", "Show counts", "Hide counts", "Breadcrumbs",
                  "Select all objects", "Select this object", "Model name", "Add link")  # fmt: skip


def visible_text(response) -> str:
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    # Attributes people hear or see (titles, labels) count as much as the text between tags.
    spoken = " ".join(re.findall(r'(?:aria-label|title|alt|placeholder)="([^"]*)"', body))
    return html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + spoken)


def test_every_admin_string_django_leaves_in_english_is_ours_in_vietnamese():
    english = polib.pofile(str(ADMIN_LOCALE / "en" / "LC_MESSAGES" / "django.po"))
    vietnamese = {e.msgid for e in polib.pofile(str(ADMIN_LOCALE / "vi" / "LC_MESSAGES" / "django.po"))
                  if e.translated()}  # fmt: skip
    missing = {e.msgid for e in english if e.msgid not in vietnamese and not e.msgid_plural}
    missing -= NOT_IN_THE_CONSOLE
    assert missing <= set(ADMIN_STRINGS), missing - set(ADMIN_STRINGS)
    with translation.override("vi"):
        untranslated = [msgid for msgid in ADMIN_STRINGS if translation.gettext(msgid) == msgid]
        assert translation.ngettext("entry", "entries", 2) != "entries"
    assert untranslated == []


@pytest.fixture
def vietnamese_console(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    officer = officer_in("investigator")
    assert console_sign_in(client, officer.username).status_code == 302
    client.officer = officer
    return client


def test_the_console_pages_read_in_vietnamese_without_codes(vietnamese_console, trader, broker):
    at = timezone.now() - datetime.timedelta(days=3)
    flags = [
        Flag.objects.create(
            kind=kind,
            severity=severity,
            organization=organization,
            explanation="seen",
            first_seen_at=at,
            last_seen_at=at,
        )
        for kind, severity, organization in (
            ("foreign_party_device", "high", trader),
            ("new_device", "medium", trader),
            ("missed_reports", "low", broker),
        )
    ]
    case = case_open(flags=flags[:2], actor=vietnamese_console.officer)
    case_note_add(case=case, text="đã gọi chủ doanh nghiệp", actor=vietnamese_console.officer)
    pages = {
        "dashboard": "/officers/",
        "flags": "/officers/audit/flag/",
        "flags, filtered": "/officers/audit/flag/?status__exact=open&assignee=me",
        "flag": f"/officers/audit/flag/{flags[0].pk}/change/",
        "cases": "/officers/audit/case/",
        "case": f"/officers/audit/case/{case.pk}/change/",
        "enterprise": f"/officers/accounts/organization/{trader.pk}/change/",
    }
    for name, url in pages.items():
        response = vietnamese_console.get(url)
        assert response.status_code == 200, name
        assert response["Content-Language"] == "vi"
        text = visible_text(response)
        assert "Chuyển đến nội dung chính" in text, name
        for phrase in ENGLISH_CHROME:
            assert phrase not in text, (name, phrase)
        words = set(re.findall(r"[\w-]+", text))
        codes = {"high", "medium", "low", "trader", "broker", "open", "resolved", "foreign_party_device",
                 "new_device", "missed_reports", "green", "yellow", "red"}  # fmt: skip
        assert not words & codes, (name, words & codes)
    flags_page = visible_text(vietnamese_console.get(pages["flags"]))
    assert "Thiết bị hoặc mạng được doanh nghiệp khác sử dụng" in flags_page
    assert "Giao cho tôi các cảnh báo đã chọn" in flags_page
    case_page = visible_text(vietnamese_console.get(pages["case"]))
    assert "Diễn biến của doanh nghiệp liên quan" in case_page
    assert "Ghi chú: đã gọi chủ doanh nghiệp" in case_page


def test_the_registry_pages_read_in_vietnamese_without_codes(world, vietnamese_console):
    signin_record(user=world.trader_signer, username=world.trader_signer.username, succeeded=True)
    world.sign(world.broker_agent, world.broker_key)
    refused = world.sign(world.broker_agent, world.trader_key)
    # Usernames are names people chose ("trader.owner"), not codes.
    usernames = sorted(User.objects.values_list("username", flat=True), key=len, reverse=True)
    pages = [
        "/officers/accounts/user/",
        f"/officers/accounts/user/{world.trader_owner.pk}/change/",
        "/officers/accounts/signinevent/",
        f"/officers/accounts/signinevent/{world.trader_signer.sign_ins.first().pk}/change/",
        "/officers/brokers/authorization/",
        f"/officers/brokers/authorization/{world.mandate.pk}/change/",
        "/officers/signatures/declaration/",
        "/officers/signatures/signaturerecord/",
        f"/officers/signatures/signaturerecord/{refused.pk}/change/",
        "/officers/signatures/certificate/",
        f"/officers/signatures/certificate/{world.trader_certificate.pk}/change/",
    ]
    for url in pages:
        response = vietnamese_console.get(url)
        assert response.status_code == 200, url
        text = visible_text(response)
        for username in usernames:
            text = text.replace(username, " ")
        found = set(re.findall(r"[\w-]+", text)) & REGISTRY_CODES
        assert not found, (url, found)
    users = visible_text(vietnamese_console.get("/officers/accounts/user/"))
    owner = world.trader_owner
    assert f"{owner.last_name} {owner.first_name}" in users  # family name first
