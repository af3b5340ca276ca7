"""create_officer: an officer account in console groups, its password from a file under the full
policy, the operator recorded; bad input is one line with exit status 2."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD
from tests.officers.helpers import console_sign_in

pytestmark = pytest.mark.django_db


def password_file(tmp_path, password: str = TEST_PASSWORD):
    path = tmp_path / "password"
    path.write_text(password + "\n")
    return str(path)


def refused(*args) -> str:
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert error.value.returncode == 2
    assert "\n" not in str(error.value)
    return str(error.value)


def test_create_officer_makes_an_officer_in_the_groups_who_must_add_a_second_factor(tmp_path, client):
    out = io.StringIO()
    call_command(
        "create_officer", "--username", "an.nguyen", "--email", "an@customs.gov.vn",
        "--group", "registrar,viewer", "--first-name", "An", "--last-name", "Nguyễn Văn",
        "--password-file", password_file(tmp_path), stdout=out,
    )  # fmt: skip
    officer = User.objects.get(username="an.nguyen")
    assert officer.is_officer and officer.is_staff and officer.organization is None
    assert officer.check_password(TEST_PASSWORD)
    assert sorted(officer.groups.values_list("name", flat=True)) == ["officer registrar", "officer viewer"]
    assert officer.has_perm("brokers.change_licenceapplication")
    assert (
        out.getvalue().strip()
        == "an.nguyen: customs officer (officer registrar, officer viewer); sign in at /officers/"
    )
    created = AuditEvent.objects.get(action="user.created", target_id=str(officer.pk))
    assert created.channel == "cli" and created.actor is None and TEST_PASSWORD not in str(created.data)
    # No second factor yet: the console's sign-in does not let the password alone in.
    response = console_sign_in(client, "an.nguyen")
    assert not (response.status_code == 302 and response.url == "/officers/")


def test_create_officer_refuses_bad_input_with_one_line(settings, tmp_path, officer):
    settings.LANGUAGE_CODE = "en"
    args = ["create_officer", "--email", "an@customs.gov.vn", "--password-file", password_file(tmp_path)]
    assert refused(*args, "--username", "an", "--group", "boss").startswith("group: ")
    assert refused(*args, "--username", "an", "--group", " , ").startswith("group: ")
    assert refused(*args, "--username", officer.username, "--group", "viewer").startswith("username: ")
    weak = ["create_officer", "--email", "b@customs.gov.vn", "--username", "binh", "--group", "viewer"]
    too_short = refused(*weak, "--password-file", password_file(tmp_path, "kumquat7"))
    assert "(password_too_short)" in too_short and "kumquat7" not in too_short
    assert not User.objects.filter(username__in=["an", "binh"]).exists()
