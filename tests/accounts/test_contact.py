"""Contact data changes after re-authentication; a change of email or phone is told to the old address."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

CONTACT = "/accounts/contact/"


def signed_in(client, username="trader.signer"):
    assert (
        client.post("/accounts/login/", {"username": username, "password": TEST_PASSWORD}).status_code == 302
    )
    return client


def details(user, **changes):
    data = {
        "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
        "phone": user.phone or "0912345678", "national_id_number": user.national_id_number or "001203004567",
        "job_title": user.job_title,
    }  # fmt: skip
    return data | changes


def test_a_recent_sign_in_is_enough_and_old_address_hears_of_the_change(client, trader_signer):
    signed_in(client)
    old_email = trader_signer.email
    response = client.post(
        CONTACT, details(trader_signer, email="new@hoabinh.example", phone="+84 987 654 321")
    )
    assert response.status_code == 302
    trader_signer.refresh_from_db()
    assert (trader_signer.email, trader_signer.phone) == ("new@hoabinh.example", "+84987654321")
    assert trader_signer.email_verified_at is None
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted([old_email, "new@hoabinh.example"])
    event = AuditEvent.objects.get(action="user.contact_changed")
    assert event.data == {"fields": ["email", "national_id_number", "phone"]}
    assert "001203004567" not in repr(list(AuditEvent.objects.values_list("data", flat=True)))


def test_an_old_proof_asks_for_the_password_again(client, trader_signer, settings):
    settings.REAUTH_SECONDS = 300
    signed_in(client)
    # Ten minutes on: the session is still valid, the proof of the password is not.
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=10)):
        response = client.get(CONTACT)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("reauthenticate"))
        wrong = client.post(reverse("reauthenticate"), {"password": "not it at all", "next": CONTACT})
        assert wrong.status_code == 400
        right = client.post(reverse("reauthenticate"), {"password": TEST_PASSWORD, "next": CONTACT})
        assert right["Location"] == CONTACT
        assert client.get(CONTACT).status_code == 200


def test_reauthentication_never_redirects_off_site(client, trader_signer):
    signed_in(client)
    response = client.post(
        reverse("reauthenticate"), {"password": TEST_PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("profile")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"national_id_number": "123"}, "national_id_number"),
        ({"email": "nope"}, "email"),
    ],
)
def test_bad_contact_data_is_refused_and_changes_nothing(client, trader_signer, changes, field):
    signed_in(client)
    before = User.objects.values().get(pk=trader_signer.pk)
    response = client.post(CONTACT, details(trader_signer, **changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert User.objects.values().get(pk=trader_signer.pk) == before
    assert not AuditEvent.objects.filter(action="user.contact_changed").exists()


def test_an_email_taken_by_someone_else_is_refused(client, trader_signer, trader_owner):
    signed_in(client)
    response = client.post(CONTACT, details(trader_signer, email=trader_owner.email.upper()))
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == ["duplicate_email"]
    trader_signer.refresh_from_db()
    assert trader_signer.email != trader_owner.email.upper()
