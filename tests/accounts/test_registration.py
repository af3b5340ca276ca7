"""A trader registers its enterprise and owner in the portal, then verifies the email address."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import Organization, User
from accounts.services.users import email_verify
from audit.models import AuditEvent
from core.errors import ApplicationError

pytestmark = pytest.mark.django_db(transaction=True)

VALID = {
    "tax_code": "3500807781",
    "name": "Công ty TNHH Biển Xanh",
    "address": "12 Lê Lợi, Vũng Tàu",
    "province": "Bà Rịa - Vũng Tàu",
    "phone": "0254 3852 123",
    "email": "lienhe@bienxanh.example",
    "legal_representative_name": "Trần Văn Hải",
    "legal_representative_id_number": "077085001234",
    "username": "hai.tran",
    "first_name": "Hải",
    "last_name": "Trần Văn",
    "owner_email": "hai@bienxanh.example",
    "owner_phone": "+84 912 345 678",
    "national_id_number": "077085001234",
    "job_title": "Giám đốc",
    "password1": "amber lantern river 1975 harbour",
    "password2": "amber lantern river 1975 harbour",
}


def post(client, **changes):
    return client.post(reverse("register"), VALID | changes)


def test_an_enterprise_registers_pending_verification_with_its_owner(client):
    response = post(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("register_done")
    organization = Organization.objects.get(tax_code="3500807781")
    assert organization.status == Organization.Status.PENDING_VERIFICATION
    assert organization.phone == "+842543852123"
    owner = User.objects.get(username="hai.tran")
    assert (owner.organization, owner.role, owner.phone) == (organization, "owner", "+84912345678")
    assert owner.check_password(VALID["password1"])
    assert owner.email_verified_at is None
    assert list(AuditEvent.objects.order_by("id").values_list("action", "channel")) == [
        ("organization.created", "portal"),
        ("user.created", "portal"),
    ]
    (message,) = mail.outbox
    assert message.to == ["hai@bienxanh.example"]
    assert "/accounts/verify-email/" in message.body


def test_the_link_verifies_the_email_once(client):
    post(client)
    link = re.search(r"https?://\S+/accounts/verify-email/\S+/", mail.outbox[0].body).group(0)
    path = link.split("//", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 302
    owner = User.objects.get(username="hai.tran")
    assert owner.email_verified_at is not None
    assert AuditEvent.objects.filter(action="user.email_verified", actor=owner).count() == 1
    again = client.get("/" + path)
    assert again.status_code == 400
    assert "already been used" in again.content.decode() or "đã được sử dụng" in again.content.decode()


def test_an_expired_or_forged_link_is_refused(client):
    post(client)
    owner = User.objects.get(username="hai.tran")
    token = mail.outbox[0].body.split("/accounts/verify-email/")[1].split("/")[0]
    with time_machine.travel("2099-01-01"), pytest.raises(ApplicationError) as expired:
        email_verify(token=token)
    assert expired.value.code == "link_expired"
    with pytest.raises(ApplicationError) as forged:
        email_verify(token=token[:-2] + "xx")
    assert forged.value.code == "link_invalid"
    owner.email = "changed@bienxanh.example"
    owner.save()
    with pytest.raises(ApplicationError) as stale:
        email_verify(token=token)
    assert stale.value.code == "link_invalid"
    assert client.get(reverse("verify_email", kwargs={"token": "nonsense"})).status_code == 400


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"tax_code": "3500807780"}, "tax_code", "invalid_tax_code"),
        ({"tax_code": "12345"}, "tax_code", "invalid_tax_code"),
        ({"owner_phone": "12345"}, "owner_phone", "invalid_phone"),
        ({"national_id_number": "07708500123"}, "national_id_number", "invalid_citizen_id"),
        ({"password2": "something else entirely 42"}, "password2", "password_mismatch"),
        (
            {"password1": "hai.tran bien xanh", "password2": "hai.tran bien xanh"},
            "password1",
            "password_contains_personal_data",
        ),
        ({"password1": "short", "password2": "short"}, "password1", "password_too_short"),
        ({"name": "x" * 300}, "name", "max_length"),
    ],
)
def test_bad_input_gets_a_specific_error_and_changes_nothing(client, changes, field, code):
    response = post(client, **changes)
    assert response.status_code == 400
    errors = response.context["form"].errors.as_data()
    assert code in [error.code for error in errors[field]], errors
    assert not Organization.objects.exists()
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()
    assert mail.outbox == []


def test_a_registered_tax_code_cannot_register_again(client):
    post(client)
    response = post(client, tax_code="3500807781", username="other.person", owner_email="o@x.example")
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].errors.as_data()["tax_code"]] == ["duplicate_tax_code"]
    assert Organization.objects.count() == 1


def test_a_taken_username_is_reported_on_its_field(client, trader_owner):
    response = post(client, username=trader_owner.username)
    assert response.status_code == 400
    assert "username" in response.context["form"].errors
    assert not Organization.objects.filter(tax_code="3500807781").exists()


def test_the_form_is_served_in_both_languages(client):
    assert "Đăng ký doanh nghiệp" in client.get(reverse("register")).content.decode()
    assert (
        "Register your enterprise"
        in client.get(reverse("register"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_a_customs_broker_registers_as_one_and_an_unknown_kind_is_refused(client):
    refused = post(client, kind="smuggler")
    assert (
        refused.status_code == 400
        and refused.context["form"].errors.as_data()["kind"][0].code == "invalid_choice"
    )
    assert not Organization.objects.exists()
    assert post(client, kind="broker").status_code == 302
    assert Organization.objects.get(tax_code="3500807781").kind == Organization.Kind.BROKER
