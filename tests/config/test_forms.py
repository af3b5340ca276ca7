"""Portal forms in the GOV.UK pattern: an error summary linking to each field, each field's errors
tied to it with aria-describedby, "Lỗi: " before the title, one message per line, a visible
focus, dates typed dd/mm/yyyy, and a staff role chosen knowingly."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import StaffInvitation
from tests.accounts.test_strength_meter import REGISTRATION
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def title_of(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def summary_links(html: str) -> list[tuple[str, str]]:
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)


def input_tag(html: str, element_id: str) -> str:
    return re.search(rf'<(?:input|select|textarea)[^>]*\bid="{element_id}"[^>]*>', html).group(0)


def test_the_sign_in_form_sent_empty_says_what_is_missing(client):
    response = client.post(reverse("login"), {}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert summary_links(html) == [
        ("id_username", "Enter your username."),
        ("id_password", "Enter your password."),
    ]
    assert title_of(html).startswith("Error: Sign in")
    for name in ("username", "password"):
        field = input_tag(html, f"id_{name}")
        assert f'aria-describedby="id_{name}_error"' in field and 'aria-invalid="true"' in field
        assert f'<div class="error-message" id="id_{name}_error">' in html


def test_the_title_says_error_in_vietnamese_and_not_without_errors(client):
    vietnamese = client.post(reverse("login"), {}, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert title_of(vietnamese).startswith("Lỗi: ")
    assert "Hãy nhập tên đăng nhập." in vietnamese
    clean = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert not title_of(clean).startswith("Lỗi") and "error-summary" not in clean


def test_several_messages_of_one_field_each_have_their_own_line(client):
    html = client.post(
        reverse("register"),
        REGISTRATION | {"password1": "short", "password2": "short"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    block = html.split('id="id_password1_error">', 1)[1].split("</div>", 1)[0]
    lines = re.findall(r"<p>(.*?)</p>", block, re.S)
    assert len(lines) >= 2
    assert all(line.startswith('<span class="visually-hidden">Error: </span>') for line in lines)
    # The summary has one entry per message, each leading to its field.
    assert [anchor for anchor, _text in summary_links(html)].count("id_password1") == len(lines)


def test_help_text_and_errors_are_both_described(client, trader_owner):
    sign_in(client, trader_owner.username)
    html = client.post(
        reverse("mandate_grant"), {"valid_from": "12/31/2026"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    field = input_tag(html, "id_valid_from")
    assert 'aria-describedby="id_valid_from_helptext id_valid_from_error"' in field
    assert 'id="id_valid_from_helptext">For example 31/12/2026 (day/month/year).' in html
    assert "Enter a real date as day/month/year, for example 31/12/2026." in html
    # A group of checkboxes: the summary leads to its first box, the group is described.
    assert ("id_scopes_0", "This field is required.") in summary_links(html)
    assert 'id="id_scopes_0"' in html
    assert re.search(
        r'<fieldset aria-describedby="id_scopes_error">\s*<legend>Kinds of declaration</legend>', html
    )


def test_dates_are_typed_day_first_in_a_text_box(client, trader_owner, broker):
    sign_in(client, trader_owner.username)
    html = client.get(reverse("mandate_grant")).content.decode()
    assert 'type="date"' not in html
    assert 'type="text" name="valid_from"' in input_tag(html, "id_valid_from")
    answers = {
        "broker_tax_code": broker.tax_code, "scopes": ["import"], "representation": "direct",
        "contract_number": "HĐ-1", "valid_from": "31/12/2026", "valid_until": "30/06/2027",
        "grantor_name": "Nguyễn Văn An", "grantor_title": "Giám đốc",
    }  # fmt: skip
    for language in ("vi", "en"):
        check = client.post(reverse("mandate_grant"), answers, HTTP_ACCEPT_LANGUAGE=language)
        assert check.status_code == 200 and "error-summary" not in check.content.decode()
        assert 'name="valid_from" value="31/12/2026"' in check.content.decode()


def test_the_staff_role_has_no_default_and_each_role_is_explained(client, trader_owner):
    sign_in(client, trader_owner.username)
    html = client.get(reverse("staff_invite"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    radios = re.findall(r'<input type="radio" name="role"[^>]*>', html)
    assert len(radios) == 4 and not any("checked" in radio for radio in radios)
    assert "Administrator: manages staff, certificates and mandates; cannot sign declarations" in html
    assert "Signer: signs declarations with the certificates they are custodian of" in html
    missing = client.post(
        reverse("staff_invite"),
        {
            "first_name": "Lan",
            "last_name": "Trần",
            "email": "lan@example.test",
            "national_id_number": "001203004567",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert missing.status_code == 400
    assert ("id_role_0", "Choose the person&#x27;s role.") in summary_links(missing.content.decode())
    assert not StaffInvitation.objects.exists()


def test_focus_is_seen_on_every_control():
    css = (settings.BASE_DIR / "config" / "static" / "portal" / "portal.css").read_text()
    rule = re.search(r"a:focus, button:focus, input:focus, select:focus, textarea:focus[^{]*\{([^}]*)\}", css)
    width = int(re.search(r"outline:\s*(\d+)px solid", rule.group(1)).group(1))
    assert width >= 2
    assert ".button.danger" in css and ".button.warning" in css  # revoke and suspend look apart


def test_every_portal_form_template_uses_the_shared_field():
    """A form that rendered its fields by hand would lose the summary links and the described-by."""
    roots = [settings.BASE_DIR / app / "templates" for app in ("accounts", "brokers", "signatures", "risk")]
    for template in (path for root in roots for path in root.rglob("*.html")):
        text = template.read_text()
        if "<form" in text and "{{ form." in text:
            assert "{{ form.non_field_errors }}" not in text, template
            assert not re.search(r"\{\{ form\.\w+ \}\}", text) or "accounts/field.html" in text, template


def test_a_second_form_on_the_page_has_its_summary_too(client, world, trader_owner):
    sign_in(client, trader_owner.username)
    page = client.post(
        reverse("certificate_detail", args=[world.trader_certificate.pk]),
        {"action": "custodians", "custodians": ["not-a-person"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert title_of(html).startswith("Error: ")
    assert summary_links(html)[0][0] == "id_custodians_0"


def test_a_bound_form_without_errors_shows_no_summary():
    client = Client()
    html = client.get(reverse("broker_directory"), {"q": "Sao Mai"}).content.decode()
    assert "error-summary" not in html and not title_of(html).startswith("Lỗi")
