"""The operator's onboarding commands (DESIGN §10): create_organization invites the owner,
create_user invites a staff member; the portal's checks and audit events, the operator recorded
(channel ``cli``), and bad input as one line with exit status 2."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import Organization, StaffInvitation, User
from audit.models import AuditEvent
from tests.conftest import ROOT
from tests.factories import TEST_PASSWORD, make_tax_code

pytestmark = pytest.mark.django_db

TAX_CODE = make_tax_code(2020)
OWNER = [
    "--owner-email", "mai@saobang.vn", "--owner-first-name", "Mai", "--owner-last-name", "Trần Thị",
    "--owner-id-number", "001190012345",
]  # fmt: skip


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(*args) -> str:
    """The one line a refused command prints, after checking its exit status is 2."""
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert error.value.returncode == 2
    line = str(error.value)
    assert "\n" not in line
    return line


def create_broker(*extra) -> str:
    return run(
        "create_organization", "--kind", "broker", "--tax-code", TAX_CODE,
        "--name", "Công ty Đại lý Sao Băng", *OWNER, *extra,
    )  # fmt: skip


def test_create_organization_makes_the_enterprise_and_prints_the_owners_invitation_link(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = create_broker("--province", "Hải Phòng", "--phone", "0225 3842 111")
    organization = Organization.objects.get(tax_code=TAX_CODE)
    assert organization.kind == "broker" and organization.status == "pending_verification"
    assert organization.province == "Hải Phòng" and organization.phone == "+842253842111"
    invitation = StaffInvitation.objects.get(organization=organization)
    assert invitation.role == "owner" and invitation.invited_by is None
    link = output.strip().splitlines()[-1]
    assert link.startswith(settings.SITE_URL.rstrip("/") + "/accounts/invitation/")
    assert mailoutbox[0].to == ["mai@saobang.vn"] and link in mailoutbox[0].body
    created = AuditEvent.objects.get(action="organization.created")
    invited = AuditEvent.objects.get(action="user.invited")
    assert created.channel == invited.channel == "cli"
    assert created.actor is None and invited.data == {"role": "owner"}
    assert created.user_agent.startswith("manage.py create_organization (operator ")
    # The owner takes the account through the link, as an invited member does in the portal.
    path = link.removeprefix(settings.SITE_URL.rstrip("/"))
    response = Client().post(
        path, {"username": "mai.tran", "password1": TEST_PASSWORD, "password2": TEST_PASSWORD}
    )
    assert response.status_code == 302
    owner = User.objects.get(username="mai.tran")
    assert owner.organization == organization and owner.role == "owner" and owner.is_manager


def test_create_organization_refuses_bad_input_with_one_line(settings):
    settings.LANGUAGE_CODE = "en"
    bad_tax_code = refused(
        "create_organization", "--kind", "trader", "--tax-code", "0100109107", "--name", "X", *OWNER
    )
    assert "invalid_tax_code" in bad_tax_code
    create_broker()
    duplicate = refused(
        "create_organization", "--kind", "trader", "--tax-code", TAX_CODE, "--name", "Y", *OWNER
    )
    assert duplicate.startswith("tax_code: ") and "(unique)" in duplicate
    bad_id = refused(
        "create_organization", "--kind", "trader", "--tax-code", make_tax_code(2021), "--name", "Z",
        "--owner-email", "x@z.vn", "--owner-first-name", "A", "--owner-last-name", "B",
        "--owner-id-number", "12",
    )  # fmt: skip
    assert bad_id.startswith("national_id_number: ")
    assert Organization.objects.count() == 1 and StaffInvitation.objects.count() == 1


def test_create_user_invites_a_staff_member_of_an_existing_enterprise(settings, trader, trader_owner):
    output = run(
        "create_user", "--organization", trader.tax_code, "--email", "lan@hoabinh.vn", "--first-name", "Lan",
        "--last-name", "Phạm", "--id-number", "001190054321", "--role", "signer",
    )  # fmt: skip
    invitation = StaffInvitation.objects.get(email="lan@hoabinh.vn")
    assert invitation.organization == trader and invitation.role == "signer" and invitation.invited_by is None
    assert output.strip().splitlines()[-1].startswith(settings.SITE_URL.rstrip("/") + "/accounts/invitation/")
    assert AuditEvent.objects.get(action="user.invited").channel == "cli"


def test_create_user_refuses_an_unknown_enterprise_a_used_email_and_a_second_owner(
    settings, trader, trader_owner
):
    settings.LANGUAGE_CODE = "en"
    person = ["--first-name", "Lan", "--last-name", "Phạm", "--id-number", "001190054321", "--role", "signer"]
    unknown = refused("create_user", "--organization", make_tax_code(7), "--email", "a@b.vn", *person)
    assert unknown.startswith("unknown_organization: ")
    used = refused("create_user", "--organization", trader.tax_code, "--email", trader_owner.email, *person)
    assert used.startswith("email: ") and "(duplicate_email)" in used
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "create_user", "--organization", trader.tax_code, "--email", "o@b.vn", *person[:-1], "owner"
        )
    assert not StaffInvitation.objects.exists()


def test_a_refused_command_exits_2_with_one_line_and_no_traceback(tmp_path):
    # The whole path an operator sees: manage.py, stderr, the exit status (no database needed).
    result = subprocess.run(
        [sys.executable, "manage.py", "create_officer", "--username", "an", "--email", "an@customs.gov.vn",
         "--group", "registrar", "--password-file", str(tmp_path / "missing")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == "CommandError: cannot read the password file: No such file or directory"
    assert "Traceback" not in result.stderr
