from __future__ import annotations

import io
import re
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import ROOT
from tests.helpers import sign_in

PO_FILE = ROOT / "config" / "locale" / "vi" / "LC_MESSAGES" / "django.po"


@pytest.mark.django_db
def test_home_speaks_vietnamese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert "Tài khoản và chữ ký số của bạn, do chính bạn kiểm soát" in html
    assert 'name="viewport"' in html


@pytest.mark.django_db
def test_home_speaks_english_when_the_browser_asks(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "Your account and your signature, under your control" in html


@pytest.mark.django_db
def test_the_language_switcher_works_without_javascript(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Your account and your signature" in client.get("/").content.decode()
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})
    assert "Đăng nhập" in client.get("/").content.decode()


@pytest.mark.django_db
def test_pages_load_nothing_from_the_internet(client):
    for path in ("/", reverse("login")):
        html = client.get(path).content.decode()
        external = re.findall(r'(?:src|href|action)="(https?:)?//', html)
        assert external == [], f"{path} refers to an outside asset"


@pytest.mark.django_db
def test_static_files_are_served_by_the_application(client):
    response = client.get("/static/portal/portal.css")
    assert response.status_code == 200
    assert b"font-family" in b"".join(response.streaming_content)


@pytest.mark.django_db
def test_a_member_signs_in_and_sees_their_organisation(client, trader_owner):
    response = sign_in(client, "trader.owner")
    assert response.status_code == 302
    page = client.get(reverse("profile")).content.decode()
    assert trader_owner.organization.tax_code in page


@pytest.mark.django_db
def test_my_account_needs_a_sign_in(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_every_vietnamese_message_is_translated():
    catalogue = polib.pofile(str(PO_FILE))
    untranslated = [
        entry.msgid
        for entry in catalogue
        if not entry.obsolete
        and not (entry.msgstr or (entry.msgstr_plural and all(entry.msgstr_plural.values())))
    ]
    fuzzy = [entry.msgid for entry in catalogue if "fuzzy" in entry.flags]
    assert untranslated == []
    assert fuzzy == []


def test_the_catalogue_holds_every_string_the_source_marks(tmp_path, settings, monkeypatch):
    """A string marked in the code but never extracted is as untranslated as an empty entry: run
    ``makemessages`` as the README says, into a copy, and nothing new may appear."""
    copy = tmp_path / "vi" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(PO_FILE.read_bytes())
    settings.LOCALE_PATHS = [str(tmp_path)]
    monkeypatch.chdir(ROOT)
    call_command(
        "makemessages", locale=["vi"], no_obsolete=True, verbosity=0,
        ignore_patterns=[".venv/*", "tests/*", "bench/*", "config/locale"],
    )  # fmt: skip
    extracted = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(copy))}
    catalogued = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(PO_FILE)) if not entry.obsolete}
    assert sorted(extracted - catalogued, key=str) == []


def test_every_translation_keeps_the_placeholders_of_its_source():
    # A lost "%(name)s" drops a fact from the sentence; a misspelt one raises where it is shown.
    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]|{{ *\w+ *}}|{\w+}")
    broken = []
    for entry in polib.pofile(str(PO_FILE)):
        translations = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for translation in translations:
            # Vietnamese has one plural form, which must say what the plural source says.
            source = entry.msgid_plural or entry.msgid
            wanted = sorted(placeholder.findall(source))
            if translation and wanted != sorted(placeholder.findall(translation)):
                broken.append(entry.msgid)
    assert broken == []


def test_the_compiled_catalogue_matches_the_source():
    catalogue = polib.pofile(str(PO_FILE))
    compiled = polib.mofile(str(PO_FILE.with_suffix(".mo")))

    def table(entries):
        return {(e.msgid, e.msgid_plural): e.msgstr or dict(e.msgstr_plural) for e in entries if e.msgid}

    assert table(catalogue) == table(compiled)


def test_every_template_string_is_marked_for_translation():
    # Visible text between tags must go through {% translate %}; a crude but useful net.
    offenders = []
    for template in Path(ROOT).glob("*/templates/**/*.html"):
        text = re.sub(r"{% blocktranslate.*?{% endblocktranslate %}", " ", template.read_text(), flags=re.S)
        # Commands and codes shown as such (<pre>, <code>) are not prose.
        text = re.sub(r"<(pre|code)\b.*?</\1>", " ", text, flags=re.S)
        text = re.sub(r"{%.*?%}|{{.*?}}|<[^>]+>|&\w+;", " ", text, flags=re.S)
        for word in re.findall(r"[A-Za-zÀ-ỹ]{3,}", text):
            offenders.append(f"{template.relative_to(ROOT)}: {word}")
    assert offenders == []


@pytest.mark.django_db
def test_there_are_no_missing_migrations():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 when one is missing
    assert out.getvalue() == "No changes detected\n"
