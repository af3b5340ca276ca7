"""The strength meter: the server's own zxcvbn score, with the typist's data as context; with and
without JavaScript the same answer."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

STRONG = "maple-thunder-saucer-8812"


def score(client, password, **context):
    response = client.post(reverse("password_strength"), {"password": password, **context})
    assert response.status_code == 200
    return response.json()


def test_scores_follow_zxcvbn(client):
    assert score(client, "password")["score"] == 0
    answer = score(client, STRONG)
    assert answer == {"score": 4, "enough": True}


def test_the_typists_own_data_lowers_the_score(client):
    alone = score(client, "hoabinhimport2026")["score"]
    with_context = score(client, "hoabinhimport2026", username="hoabinhimport2026")["score"]
    assert with_context < alone


def test_a_signed_in_users_own_data_counts(client, trader_signer):
    sign_in(client, "trader.signer")
    password = trader_signer.email.split("@")[0] * 2
    assert score(client, password)["score"] <= 1


def test_only_post_and_nothing_is_logged(client, caplog):
    assert client.get(reverse("password_strength")).status_code == 405
    with caplog.at_level(logging.DEBUG):
        score(client, STRONG)
    assert STRONG not in caplog.text


def test_without_javascript_the_form_answer_shows_the_meter(client):
    response = client.post(reverse("register"), {"password1": "password", "password2": "password"})
    html = response.content.decode()
    assert 'data-strength-url="/accounts/password/strength/"' in html
    assert '<meter min="0" max="4"' in html and 'value="0"' in html
    assert 'value="password"' not in html
