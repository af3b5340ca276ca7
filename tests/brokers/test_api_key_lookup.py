"""The API key's lookup by its prefix is an ordinary query: the value presented is bound, never
spliced into the SQL, so a prefix written as SQL finds nothing and gets the one answer every dead
key gets."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from brokers.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("prefix", ["x' OR '1'='1", "%", "' UNION SELECT NULL --"])
def test_a_prefix_written_as_sql_finds_no_key(broker_owner, prefix):
    _key, secret = api_key_create(
        actor=broker_owner, holder=broker_owner, name="ecus", scopes=["read"], expires_in_days=30
    )
    own = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}").get(reverse("api_me"))
    assert own.status_code == 200
    forged = f"{prefix}.{secret.partition('.')[2]}"
    forger = Client(HTTP_AUTHORIZATION=f"Api-Key {forged}", HTTP_ACCEPT_LANGUAGE="en")
    response = forger.get(reverse("api_me"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "This API key is not valid.",
        "fields": {},
    }
