"""With the database out of reach the site says so: 503 with ``Retry-After``, JSON under /api/ and a
page elsewhere, instead of a 500 that blames the request. The fault drill restarts a real
PostgreSQL; here its port is simply wrong for a moment."""

from __future__ import annotations

import contextlib

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def database_out_of_reach():
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def site(settings):
    if connection.vendor != "postgresql":
        pytest.skip("an in-memory SQLite test database cannot be put out of reach")
    settings.DEBUG = False  # Django's own error pages otherwise
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


def test_the_api_answers_503_service_unavailable_with_retry_after(site):
    with database_out_of_reach():
        response = site.get("/api/v1/brokers/")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json() == {
        "code": "service_unavailable",
        "detail": "The service is briefly unavailable; try again in a few seconds.",
        "fields": {},
    }
    assert site.get("/api/v1/brokers/").status_code == 200  # and answers again once it is back


def test_a_portal_page_answers_503_in_the_visitors_language(site):
    with database_out_of_reach():
        english = site.get("/brokers/")
        vietnamese = site.get("/brokers/", HTTP_ACCEPT_LANGUAGE="vi")
    assert (english.status_code, english["Retry-After"]) == (503, "5")
    assert "The service is briefly unavailable" in english.content.decode()
    assert vietnamese.status_code == 503
    assert "Hệ thống tạm thời gián đoạn" in vietnamese.content.decode()
