"""The console's page context: everything Django's admin gives its templates, the app list only
when a template reads it."""

from __future__ import annotations

import pytest
from django.contrib.admin import AdminSite
from django.test import RequestFactory

from officers.site import officer_site

pytestmark = pytest.mark.django_db


def test_every_key_django_gives_and_the_same_app_list(console):
    client = console("viewer")
    request = RequestFactory().get("/officers/")
    request.user = client.officer
    request.session = client.session
    ours = officer_site.each_context(request)
    django = AdminSite.each_context(officer_site, request)
    assert set(django) <= set(ours)
    assert callable(ours["available_apps"])
    assert ours["available_apps"]() == django["available_apps"]
    for key in set(django) - {"available_apps", "log_entries"}:
        assert ours[key] == django[key], key
    assert list(ours["log_entries"]) == list(django["log_entries"])


def test_the_dashboard_still_lists_the_apps(console):
    response = console("viewer").get("/officers/")
    assert response.status_code == 200
    assert response.context["app_list"], "the index lists what the officer may open"
