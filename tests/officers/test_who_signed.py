"""Officers find who signed which declaration; every search is audited; bad criteria are refused."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.html import escape
from django.utils.timezone import localdate, localtime
from pytest_django.asserts import assertInHTML

from audit.models import Action, AuditEvent
from audit.services.sealing import audit_seal
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

URL = "/officers/who-signed/"


def test_an_officer_finds_the_signer_of_a_declaration_from_its_number(world, console):
    record = world.sign(world.broker_agent, world.broker_key, number="102345678901")
    world.sign(world.trader_signer, world.trader_key)  # another declaration, not a hit
    client = console("viewer")
    response = client.get(URL, {"declaration_number": "102345678901"})
    assert response.status_code == 200
    hits = response.context["hits"]
    assert [hit["record"].pk for hit in hits] == [record.pk]
    hit = hits[0]
    assert world.broker_agent.username in hit["signer"]
    assert world.broker.tax_code in hit["organization"]
    assert world.trader.tax_code in hit["on_behalf_of"]
    assert hit["mandate"] == "HĐ-01"
    assert hit["agent_number"] == world.broker_agent.agent_profile.agent_number
    assert world.broker_certificate.fingerprint_sha256 in hit["certificate"]
    assert hit["receipt"].startswith("/officers/receipts/")
    event = AuditEvent.objects.filter(action=Action.OFFICER_VIEWED, actor=client.officer).latest("id")
    assert event.data["search"] == {"declaration_number": "102345678901"}
    assert event.data["results"] == 1


@pytest.mark.parametrize(
    "criteria",
    [
        lambda w, r: {"tax_code": w.broker.tax_code},
        lambda w, r: {"certificate": w.broker_certificate.serial_number.upper()},
        lambda w, r: {"certificate": w.broker_certificate.fingerprint_sha256},
        lambda w, r: {"agent_number": r.agent_number},
        lambda w, r: {"user": w.broker_agent.username},
        # Dates are the enterprise's local days, not UTC ones.
        lambda w, r: {"user": w.broker_agent.username, "date_from": localdate(r.created_at).isoformat(),
                      "date_to": localdate(r.created_at).isoformat()},
    ],
)  # fmt: skip
def test_each_criterion_finds_the_broker_signature(world, console, criteria):
    record = world.sign(world.broker_agent, world.broker_key)
    world.sign(world.trader_signer, world.trader_key)
    response = console("viewer").get(URL, criteria(world, record))
    assert [hit["record"].pk for hit in response.context["hits"]] == [record.pk]


def test_refused_attempts_are_found_too(world, console):
    record = world.sign(world.broker_agent, world.trader_key)  # the trader's certificate: refused
    response = console("investigator").get(URL, {"tax_code": world.trader.tax_code})
    outcomes = [hit["record"].outcome for hit in response.context["hits"]]
    assert outcomes == ["rejected"] and response.context["hits"][0]["record"].pk == record.pk
    # Why, in words rather than the stored code; the signer family name first.
    hit = response.context["hits"][0]
    assert hit["outcome"] == "Refused: a certificate of another enterprise"
    agent = world.broker_agent
    assert hit["signer"] == f"{agent.last_name} {agent.first_name} ({agent.username})"
    page = console("viewer").get(f"/officers/signatures/signaturerecord/{record.pk}/change/").content.decode()
    assert "a certificate of another enterprise" in page and "certificate_foreign_use" not in page


def test_a_date_range_outside_the_signature_finds_nothing(world, console):
    record = world.sign(world.trader_signer, world.trader_key)
    day = record.created_at.date()
    response = console("viewer").get(URL, {"tax_code": world.trader.tax_code, "date_from": "2001-01-01",
                                             "date_to": "2001-01-31"})  # fmt: skip
    assert response.status_code == 200 and response.context["hits"] == []
    assert day.year > 2001


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"date_from": "2026-01-01"}, "no_criteria"),
        ({"tax_code": "0100686209", "date_from": "2026-02-01", "date_to": "2026-01-01"}, "impossible_range"),
        ({"tax_code": "0100686209", "date_from": "not-a-date"}, "invalid"),
    ],
)
def test_bad_criteria_are_refused_clearly_and_nothing_is_searched(console, params, code):
    client = console("viewer")
    response = client.get(URL, params)
    assert response.status_code == 400
    codes = [error.code for errors in response.context["form"].errors.as_data().values() for error in errors]
    assert code in codes
    assert not AuditEvent.objects.filter(action=Action.OFFICER_VIEWED, actor=client.officer).exists()


def test_the_form_shows_each_fields_label_and_its_errors_beside_it(console):
    client = console("viewer")
    page = client.get(URL, {"tax_code": "0100686209", "date_from": "not-a-date"}).content.decode()
    assert '<label for="id_tax_code">' in page and 'name="tax_code" value="0100686209"' in page
    assert '<div class="form-row errors"><ul class="errorlist" id="id_date_from_error">' in page
    assert page.count('class="errorlist"') == 1
    assert '<label for="id_date_to">' in page and "To (inclusive):</label>" in page


def test_the_csv_export_has_every_hit(world, console):
    world.sign(world.broker_agent, world.broker_key, number="555")
    response = console("viewer").get(URL, {"declaration_number": "555", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "declaration" and rows[1][0] == "555" and len(rows) == 2
    assert rows[1][-1].startswith("http://testserver/officers/receipts/")


def test_the_receipt_link_gives_the_sealed_receipt(world, console, settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 1
    world.sign(world.broker_agent, world.broker_key, number="556")
    audit_seal()
    client = console("viewer")
    hit = client.get(URL, {"declaration_number": "556"}).context["hits"][0]
    response = client.get(hit["receipt"])
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="declaration.signed")
    assert response.json()["event"]["event_id"] == str(event.event_id)
    assert response.json()["inclusion"]["leaf_index"] == event.position


def test_the_search_is_not_for_non_officers(world, trader_owner):
    client = Client()
    sign_in(client, trader_owner.username)
    response = client.get(URL, {"tax_code": world.trader.tax_code})
    assert response.status_code == 302 and response.url.startswith("/officers/login/")


def test_results_come_a_page_at_a_time_newest_first(world, console, monkeypatch):
    monkeypatch.setattr("officers.who_signed.PAGE_SIZE", 2)
    records = [world.sign(world.broker_agent, world.broker_key) for _ in range(3)]
    client = console("viewer")
    criteria = {"tax_code": world.broker.tax_code}
    first = client.get(URL, criteria, HTTP_ACCEPT_LANGUAGE="en")
    assert [hit["record"].pk for hit in first.context["hits"]] == [r.pk for r in records[::-1][:2]]
    assert "Page 1, newest first" in first.content.decode()
    assert "page=2" in first.content.decode() and "Newer" not in first.content.decode()
    second = client.get(URL, criteria | {"page": "2"}, HTTP_ACCEPT_LANGUAGE="en")
    assert [hit["record"].pk for hit in second.context["hits"]] == [r.pk for r in records[:1]]
    assert "Newer" in second.content.decode() and "Older" not in second.content.decode()
    assert client.get(URL, criteria | {"page": "x"}).context["hits"] == first.context["hits"]
    searches = AuditEvent.objects.filter(action=Action.OFFICER_VIEWED).order_by("id")
    assert [event.data["page"] for event in searches][-3:] == [1, 2, 1]
    # The CSV has every hit, whatever the page.
    export = client.get(URL, criteria | {"page": "2", "export": "csv"})
    assert len(list(csv.reader(io.StringIO(export.content.decode())))) == 1 + 3


def test_each_row_shows_escaped_values_local_time_and_its_links(world, console, settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 1
    world.broker.name = 'Đại lý <b>"Hải & Cảng"</b>'
    world.broker.save(update_fields=["name"])
    world.trader.name = "<script>alert('x')</script>"
    world.trader.save(update_fields=["name"])
    record = world.sign(world.broker_agent, world.broker_key, number="557")
    audit_seal()
    client = console("viewer")
    page = client.get(URL, {"declaration_number": "557"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "<b>" not in row and "Đại lý &lt;b&gt;&quot;Hải &amp; Cảng&quot;&lt;/b&gt;" in row
    assert "<script>" not in row and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in row
    assert f'<a href="/officers/signatures/signaturerecord/{record.pk}/change/">557</a> (Import)' in row
    with translation.override("en"):
        shown = dateformat.format(localtime(record.created_at), "N j, Y, P")
    assert f"<td>{shown}</td>" in row, "the officer's local time, in the page's language"
    receipt = re.search(r'<a href="(/officers/receipts/[0-9a-f-]{36}/)">receipt</a>', row).group(1)
    assert client.get(receipt).status_code == 200
    assert row.count("<tr>") == 1


def test_a_console_page_does_not_count_the_officers_portal_notifications(world, console):
    # The count is the portal navigation's; the console does not show it.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = console("viewer")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, {"declaration_number": "102345678901"}).status_code == 200
    assert not [q for q in queries.captured_queries if "accounts_notification" in q["sql"]]
    assert any("audit_auditevent" in q["sql"] for q in queries.captured_queries)  # the page did query


def test_each_row_links_its_own_record_and_its_own_receipt(world, console):
    records = [world.sign(world.broker_agent, world.broker_key, number=f"60{n}") for n in range(3)]
    client = console("viewer")
    page = client.get(URL, {"tax_code": world.broker.tax_code}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = body.split("<tr>")[1:]
    assert len(rows) == 3
    signed = AuditEvent.objects.filter(action="declaration.signed", target_type="signatures.signaturerecord")
    events = dict(signed.values_list("target_id", "event_id"))
    for row, record in zip(rows, records[::-1], strict=True):
        change = reverse("officers:signatures_signaturerecord_change", args=[record.pk])
        assert f'<a href="{change}">{record.declaration_number}</a>' in row
        receipt = reverse("officers:receipt", args=[events[str(record.pk)]])
        assert f'<a href="{receipt}">receipt</a>' in row


def test_the_search_inputs_keep_their_names_ids_and_the_values_typed_as_text(console):
    criteria = {
        "declaration_number": "102345678901",
        "tax_code": '"><script>x</script>',  # too long for a tax code: shown back, escaped, as an error
        "certificate": "ab & cd",
        "agent_number": "DL-1",
        "user": "anh",
        "date_from": "2026-01-01",
        "date_to": "not-a-date",
    }
    response = console("viewer").get(URL, criteria, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = response.content.decode()
    assert "<script>" not in page
    maxlength = {
        "declaration_number": 32,
        "tax_code": 14,
        "certificate": 100,
        "agent_number": 64,
        "user": 150,
    }
    for name, value in criteria.items():
        invalid = name in ("tax_code", "date_to")
        attributes = {
            "type": "text",
            "name": name,
            "value": value,
            "id": f"id_{name}",
            **({"maxlength": str(maxlength[name])} if name in maxlength else {}),
            **({"aria-invalid": "true", "aria-describedby": f"id_{name}_error"} if invalid else {}),
        }
        expected = "<input " + " ".join(f'{key}="{escape(item)}"' for key, item in attributes.items()) + ">"
        assertInHTML(expected, page, count=1)


def test_the_officers_signature_search_names_the_signer_family_name_first(world, console):
    type(world.trader_signer).objects.filter(pk=world.trader_signer.pk).update(
        last_name="Lê Minh", first_name="Khoa"
    )
    world.sign(world.trader_signer, world.trader_key, number="102345678902")
    response = console("viewer").get(URL, {"declaration_number": "102345678902"})
    assert [hit["signer"] for hit in response.context["hits"]] == [
        f"Lê Minh Khoa ({world.trader_signer.username})"
    ]
