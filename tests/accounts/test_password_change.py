from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW = "granite orchid ferry 5821 south"


def change(client, current=TEST_PASSWORD, new=NEW, again=None):
    return client.post(
        reverse("password_change"), {"current_password": current, "password1": new, "password2": again or new}
    )


def test_a_member_changes_their_password_and_other_sessions_end(client, trader_signer):
    from django.test import Client

    elsewhere = Client()
    elsewhere.force_login(trader_signer)
    client.force_login(trader_signer)
    response = change(client)
    assert response.status_code == 302
    trader_signer.refresh_from_db()
    assert trader_signer.check_password(NEW)
    assert client.get(reverse("profile")).status_code == 200  # this session stays
    assert elsewhere.get(reverse("profile")).status_code == 302  # the other one is signed out
    assert AuditEvent.objects.filter(action="password.changed", actor=trader_signer).count() == 1


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "code"),
    [
        ("not my password at all", NEW, None, "current_password", "wrong_password"),
        (TEST_PASSWORD, NEW, "something else entirely", "password2", "password_mismatch"),
        (TEST_PASSWORD, "short", None, "password1", "password_too_short"),
        (TEST_PASSWORD, TEST_PASSWORD, None, "password1", "password_reused"),
        (TEST_PASSWORD, TEST_PASSWORD[::-1], None, "password1", "password_reused"),
    ],
)
def test_refusals_are_specific_and_change_nothing(client, trader_signer, current, new, again, field, code):
    client.force_login(trader_signer)
    response = change(client, current, new, again)
    assert response.status_code == 400
    assert code in [error.code for error in response.context["form"].errors.as_data()[field]]
    trader_signer.refresh_from_db()
    assert trader_signer.check_password(TEST_PASSWORD)
    assert not AuditEvent.objects.filter(action="password.changed").exists()


def test_an_account_that_must_change_its_password_is_sent_to_the_form_first(client, trader_signer):
    User.objects.filter(pk=trader_signer.pk).update(must_change_password=True)
    client.force_login(trader_signer)
    assert client.get(reverse("profile"))["Location"] == reverse("password_change")
    form_page = client.get(reverse("password_change"), HTTP_ACCEPT_LANGUAGE="en")
    assert "You must choose a new password before you continue." in form_page.content.decode()
    assert change(client).status_code == 302
    assert client.get(reverse("profile")).status_code == 200


def test_the_apis_session_calls_get_a_json_403_until_the_password_is_changed(client, trader_signer):
    User.objects.filter(pk=trader_signer.pk).update(must_change_password=True)
    client.force_login(trader_signer)
    response = client.get("/api/v1/declarations/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response.json() == {
        "code": "password_change_required",
        "detail": "Change your password in the portal first.",
        "fields": {},
    }
    assert change(client).status_code == 302
    assert client.get("/api/v1/declarations/").status_code == 200


def test_an_old_password_gets_a_reminder_not_a_block(client, trader_signer, settings):
    settings.PASSWORD_REMINDER_DAYS = 180
    User.objects.filter(pk=trader_signer.pk).update(
        password_changed_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    client.force_login(trader_signer)
    with time_machine.travel(datetime.datetime(2026, 6, 29, tzinfo=datetime.UTC)):
        assert "180" not in client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    with time_machine.travel(datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC)):
        page = client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Your password is more than 180 days old" in page.content.decode()


def test_changing_a_password_needs_a_sign_in(client):
    assert client.get(reverse("password_change")).status_code == 302


def test_a_maximum_age_forces_a_change_only_where_set(client, trader_signer, settings):
    User.objects.filter(pk=trader_signer.pk).update(
        password_changed_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    client.force_login(trader_signer)
    with time_machine.travel(datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)):
        settings.PASSWORD_MAX_AGE_DAYS = 0
        assert client.get(reverse("profile")).status_code == 200
        settings.PASSWORD_MAX_AGE_DAYS = 90
        assert client.get(reverse("profile"))["Location"] == reverse("password_change")
        assert change(client).status_code == 302
        assert client.get(reverse("profile")).status_code == 200
