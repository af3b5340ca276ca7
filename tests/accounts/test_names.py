"""Names family name first (issue 22): "Nguyễn Văn An", never Django's "An Nguyễn Văn", wherever
a person is named, and forms that ask for the family name before the given name."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.forms import ContactForm, RegistrationForm, StaffInviteForm
from accounts.models import Notification, StaffInvitation, User
from accounts.services.staff import invitation_accept, invitation_token, staff_invite
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def _name(user, *, family: str, given: str) -> User:
    User.objects.filter(pk=user.pk).update(last_name=family, first_name=given)
    return User.objects.get(pk=user.pk)


def test_a_full_name_reads_family_name_first():
    person = User(first_name="An", last_name="Nguyễn Văn")
    assert person.get_full_name() == "Nguyễn Văn An"
    assert person.get_short_name() == "An"
    assert User(first_name="An", last_name="").get_full_name() == "An"
    assert User(first_name=" ", last_name="Nguyễn ").get_full_name() == "Nguyễn"


def test_forms_ask_for_the_family_name_before_the_given_name():
    for form in (RegistrationForm(), ContactForm(), StaffInviteForm(roles=User.STAFF_ROLES)):
        names = list(form.fields)
        assert names.index("last_name") < names.index("first_name"), type(form).__name__


def test_the_registration_page_shows_family_name_then_given_name_in_vietnamese(client):
    html = client.get(reverse("register"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    family, given = html.find('name="last_name"'), html.find('name="first_name"')
    assert -1 < family < given
    assert "Họ và tên đệm" in html


def test_profile_and_staff_pages_name_people_family_name_first(client, trader_owner, trader_signer):
    _name(trader_owner, family="Nguyễn Văn", given="An")
    _name(trader_signer, family="Trần Thị", given="Lan")
    assert sign_in(client, "trader.owner").status_code == 302
    profile = client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    staff = client.get(reverse("staff"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Nguyễn Văn An" in profile and "An Nguyễn Văn" not in profile
    assert "Trần Thị Lan" in staff and "Lan Trần Thị" not in staff


def test_an_invitation_names_the_person_family_name_first_in_the_list_and_the_notice(
    client, trader_owner, mailoutbox, django_capture_on_commit_callbacks
):
    owner = _name(trader_owner, family="Nguyễn Văn", given="An")
    with django_capture_on_commit_callbacks(execute=True):
        staff_invite(
            actor=owner, email="lan@example.test", first_name="Lan", last_name="Trần Thị",
            national_id_number="001203004567", role="viewer",
        )  # fmt: skip
    invitation = StaffInvitation.objects.get(email="lan@example.test")
    assert "Trần Thị Lan" in mailoutbox[-1].body and "Nguyễn Văn An" in mailoutbox[-1].body
    assert sign_in(client, "trader.owner").status_code == 302
    assert "Trần Thị Lan" in client.get(reverse("staff")).content.decode()

    invitation_accept(
        token=invitation_token(invitation), username="lan.tran", password="maple-thunder-saucer-8812"
    )
    notice = Notification.objects.get(user=trader_owner, kind=Notification.Kind.INVITATION_ACCEPTED)
    assert notice.params["person"] == "Trần Thị Lan"
