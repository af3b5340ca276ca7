"""Hostile input is refused clearly, never with a 500 (issue "Hardening", finding 4): NUL bytes,
digits that ``int`` refuses, numbers too long for a column, dates at the end of the calendar and
deeply nested JSON, fed to every query parameter of the API (read from its schema), every page of
the portal and the console that takes no argument (read from the URL conf; the console's in
tests/officers/test_hostile_search.py), and the form fields
the outside review named. A page or parameter added later is fed the same."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator

from brokers.models import OperationReport
from brokers.services.api_keys import api_key_create
from core.error_codes import ERROR_CODES, ERROR_STATUSES
from core.parsers import MAX_DEPTH
from signatures.models import SignatureRecord
from tests.cast import filing_body
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

NUL = ["\x00", "abc\x00def"]
# Superscript and Arabic-Indic digits (str.isdigit is true of both), a number no column holds, the
# last day of the calendar, a date that does not exist, a right-to-left override.
ODD = ["²", "٣", "9" * 40, "9999-12-31", "0000-00-00", "-1", "\u202e1"]


# Query parameters whose value is searched for as typed; every other one names a page, a size, a
# cursor or a choice, and refuses what is not one.
FREE_TEXT = {"q", "province"}


def _api_client(user) -> Client:
    _key, secret = api_key_create(
        actor=user, holder=user, name="fuzz", scopes=["read", "manage", "declare"], expires_in_days=30
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", HTTP_ACCEPT_LANGUAGE="en")


def _api_list_parameters() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        found += [(path, p["name"]) for p in operation.get("parameters", []) if p["in"] == "query"]
    return found


def _assert_error_body(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and body["code"] in ERROR_CODES
    assert status in ERROR_STATUSES[body["code"]], body
    return body


def test_every_query_parameter_of_the_api_refuses_a_nul_and_survives_odd_values(world):
    parameters = _api_list_parameters()
    assert len(parameters) >= 10, parameters  # the directory's q, province, status; pages; filters
    clients = [_api_client(world.broker_owner), _api_client(world.trader_owner)]
    for path, name in parameters:
        readers = [client for client in clients if client.get(path).status_code == 200]
        assert readers, path
        for client in readers:
            for value in NUL:
                body = _assert_error_body(client.get(path, {name: value}), 400)
                assert body["code"] == "null_characters_not_allowed" and list(body["fields"]) == [name]
            for value in ODD:
                response = client.get(path, {name: value})
                if name in FREE_TEXT:  # searched for as typed
                    assert response.status_code == 200, (path, name, value, response.status_code)
                else:
                    body = _assert_error_body(response, 400)
                    assert list(body["fields"]) == [name], (path, name, value, body)


@pytest.mark.parametrize("status", ["", "bogus", "ACTIVE"])
def test_the_directory_refuses_a_status_outside_its_list_even_empty(client, status):
    # Found by CI's random-seed fuzz pass (seed 862346840): ?status= was read as no filter.
    response = client.get(reverse("api_brokers"), {"status": status}, HTTP_ACCEPT_LANGUAGE="en")
    assert _assert_error_body(response, 400) == {
        "code": "invalid_status",
        "detail": "No licence has this status.",
        "fields": {"status": ["invalid_choice"]},
    }


@pytest.mark.parametrize("name", ["q", "province", "status"])
def test_the_public_directory_refuses_a_nul_to_anonymous_callers(client, name):
    response = client.get(reverse("api_brokers"), {name: "\x00"}, HTTP_ACCEPT_LANGUAGE="en")
    body = _assert_error_body(response, 400)
    assert body["fields"] == {name: ["Null characters are not allowed."]}


@pytest.mark.parametrize("name", ["api_brokers", "api_authorizations", "api_declarations"])
def test_a_page_size_in_digits_int_refuses_is_a_400(world, name):
    body = _assert_error_body(_api_client(world.broker_owner).get(reverse(name), {"page_size": "²"}), 400)
    assert body["code"] == "invalid_page_size" and list(body["fields"]) == ["page_size"]


def _api_write_paths() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [path for path, item in schema["paths"].items() if "post" in item and "{" not in path]


@pytest.mark.parametrize("depth", [100_000, MAX_DEPTH + 1])
def test_json_nested_too_deeply_is_a_parse_error_on_every_write(world, depth):
    client = _api_client(world.broker_owner)
    body = "[" * depth + "]" * depth
    paths = _api_write_paths()
    assert len(paths) >= 4, paths
    for path in paths:
        refused = _assert_error_body(client.post(path, body, content_type="application/json"), 400)
        assert refused["code"] == "parse_error", path


def test_json_as_deep_as_the_bound_is_read(world):
    deepest = json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    nested = json.dumps({"number": "A1", "extra": deepest})
    response = _api_client(world.broker_agent).post(
        reverse("api_declarations"), nested, content_type="application/json"
    )
    assert _assert_error_body(response, 400)["code"] != "parse_error"  # refused by its fields instead


def test_a_report_period_at_the_end_of_the_calendar_is_an_invalid_period(world):
    response = _api_client(world.broker_owner).post(
        reverse("api_operation_reports"),
        {"period_start": "9999-12-01", "declarations_filed": 1, "clients_served": 1},
        content_type="application/json",
    )
    body = _assert_error_body(response, 400)
    assert body["code"] == "invalid_period" and list(body["fields"]) == ["period_start"]
    assert not OperationReport.objects.exists()


# --- the portal and the console ------------------------------------------------------------------


def _portal_pages() -> list[str]:
    pages = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and not pattern.pattern.converters:
                pages.append("/" + route)

    walk(get_resolver().url_patterns, "")
    skipped = ("/api/", "/officers/", "/static/", "/accounts/logout/", "/i18n/")
    return sorted({page for page in pages if not page.startswith(skipped) and "^" not in page})


def test_every_portal_page_refuses_a_nul_in_its_query_and_survives_odd_values(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert sign_in(client, world.broker_owner.username).status_code == 302
    pages = _portal_pages()
    assert "/brokers/" in pages and "/declarations/" in pages, pages
    for page in pages:
        response = client.get(page, {"q": "\x00"})
        assert response.status_code == 400, (page, response.status_code)
        assert b"Null characters are not allowed." in response.content
        # Odd values are read as text, or ignored: the page answers as it does without them (a
        # form, a redirect to where it belongs, or 405 for a page that only takes a POST).
        plain = client.get(page).status_code
        for value in ODD:
            response = client.get(page, {"q": value, "page": value, "status": value, "kind": value})
            assert response.status_code == plain, (page, value, response.status_code, plain)


def test_a_portal_page_tells_in_vietnamese_why_the_address_was_refused(client):
    response = client.get(reverse("broker_directory"), {"q": "\x00"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 400
    assert "Không được dùng ký tự rỗng (NUL)." in response.content.decode()


def test_a_session_or_agent_chosen_by_a_digit_int_refuses_is_not_found(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert sign_in(client, world.broker_owner.username).status_code == 302
    for value in ["²", "9" * 40]:
        assert client.post(reverse("session_list"), {"session": value}).status_code == 404
        assert client.post(reverse("agents"), {"leave": value}).status_code == 404
    assert world.broker_agent.agent_profile.left_on is None


def test_a_body_over_the_upload_bound_is_a_json_413_under_the_api(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = _api_client(world.broker_agent).post(
        reverse("api_declarations"), {"number": "X" * 2000}, content_type="application/json"
    )
    body = _assert_error_body(response, 413)
    assert body == {"code": "request_too_large", "detail": "The request is too large.", "fields": {}}


def test_a_portal_form_over_the_upload_bound_is_a_413_page(world, settings):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert sign_in(client, world.broker_owner.username).status_code == 302
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(reverse("contact_edit"), {"phone": "9" * 2000})
    assert response.status_code == 413
    assert "The request is too large." in response.content.decode()


def test_a_declaration_number_with_a_right_to_left_override_is_refused(world):
    body = filing_body(world, world.broker_key, "305123456789") | {"number": "3051\u202e23456789"}
    response = _api_client(world.broker_agent).post(
        reverse("api_declarations"), body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert _assert_error_body(response, 400) == {
        "code": "invalid_input",
        "detail": "The request is invalid.",
        "fields": {"number": ["Remove the invisible or control characters (U+202E)."]},
    }
    assert not SignatureRecord.objects.exists()


def test_the_signing_service_itself_refuses_an_invisible_character_in_the_number(world):
    record = world.sign(world.broker_agent, world.broker_key, number="3051\u200b23456789")
    assert (record.outcome, record.reason_code) == ("rejected", "invalid_input")


def test_a_mandates_contract_number_with_a_zero_width_space_is_refused(world):
    response = _api_client(world.trader_owner).post(
        reverse("api_authorizations"),
        {"broker": world.broker.tax_code, "scopes": ["export"], "representation": "direct",
         "contract_number": "HĐ\u200b-02", "valid_from": "2027-01-01", "valid_until": "2027-06-30"},
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    body = _assert_error_body(response, 400)
    assert body["code"] == "invisible_characters"
    assert body["fields"] == {"contract_number": ["Remove the invisible or control characters (U+200B)."]}


def test_the_registration_form_shows_the_refusal_next_to_the_name(client):
    response = client.post(
        reverse("register"), {"name": "Sao Mai\u202e", "first_name": "An", "last_name": "Nguyễn Văn"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["name"] == ["Remove the invisible or control characters (U+202E)."]
    assert "first_name" not in form.errors and "last_name" not in form.errors
