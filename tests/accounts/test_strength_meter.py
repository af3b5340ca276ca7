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
    assert answer == {"score": 4, "enough": True, "problems": []}


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
        score(client, STRONG, national_id_number="077085001234")
        score(client, STRONG + "x" * 200)  # refused as too long: the refusal names no password
    assert STRONG not in caplog.text and "077085001234" not in caplog.text


def test_without_javascript_the_form_answer_shows_the_meter(client):
    response = client.post(reverse("register"), {"password1": "password", "password2": "password"})
    html = response.content.decode()
    assert 'data-strength-url="/accounts/password/strength/"' in html
    assert '<meter min="0" max="4"' in html and 'value="0"' in html
    assert 'value="password"' not in html


REGISTRATION = {
    "tax_code": "3500807781", "name": "Công ty TNHH Biển Xanh", "address": "12 Lê Lợi, Vũng Tàu",
    "province": "Bà Rịa - Vũng Tàu", "phone": "0254 3852 123", "email": "lienhe@bienxanh.example",
    "legal_representative_name": "Trần Văn Hải", "legal_representative_id_number": "077085001234",
    "username": "hai.tran", "first_name": "Hải", "last_name": "Trần Văn",
    "owner_email": "hai@bienxanh.example", "owner_phone": "+84 912 345 678",
    "national_id_number": "077085001234", "job_title": "Giám đốc",
}  # fmt: skip
COMPANY_PASSWORD = "bienxanh-maple-thunder-saucer"


def test_the_meter_refuses_what_the_rules_refuse(client):
    """ "Very strong" to zxcvbn, but it holds the company's name: the meter says what the form
    will say, in the same words, and does not call it strong."""
    password = COMPANY_PASSWORD
    answer = score(client, password, **REGISTRATION)
    assert answer["enough"] is False and answer["score"] <= 1
    form = client.post(
        reverse("register"), REGISTRATION | {"password1": password, "password2": password}
    ).content.decode()
    assert answer["problems"]
    assert "error-summary" in form
    for problem in answer["problems"]:
        assert problem.replace("'", "&#x27;") in form
    assert score(client, password)["enough"] is True  # without the company, nothing is wrong


def test_the_meter_names_each_broken_rule(client):
    answer = score(client, "short1")
    assert len(answer["problems"]) >= 2  # too short, too easy to guess
    assert answer["score"] <= 1 and not answer["enough"]


def test_a_refused_password_is_not_strong_on_the_form_answer_either(client):
    password = COMPANY_PASSWORD
    html = client.post(
        reverse("register"), REGISTRATION | {"password1": password, "password2": password}
    ).content.decode()
    meter = html.split("<meter", 1)[1].split(">", 1)[0]
    assert 'value="1"' in meter or 'value="0"' in meter
