"""The operator's broker commands: create_api_key prints a working key once, broker_licence grants,
rejects, renews and manages agents through the console's services; bad input is one line, exit 2."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization, User
from audit.models import AuditEvent
from brokers.models import AgentProposal, AgentStaff, BrokerLicence, LicenceApplication, OrganizationAPIKey
from brokers.services.licensing import agent_propose, licence_application_submit
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert error.value.returncode == 2
    assert "\n" not in str(error.value)
    return str(error.value)


# --- create_api_key ----------------------------------------------------------------------------


def test_create_api_key_prints_a_working_key_once_and_never_records_it(broker, broker_agent):
    out, err = run(
        "create_api_key", "--organization", broker.tax_code, "--user", "broker.agent",
        "--scopes", "read,declare", "--days", "30",
    )  # fmt: skip
    secret = out.strip()
    key = OrganizationAPIKey.objects.get()
    assert secret.startswith(key.prefix + ".") and secret not in err
    assert key.user == broker_agent and key.organization == broker and key.created_by is None
    assert sorted(key.scopes) == ["declare", "read"]
    assert key.expiry_date.date() == (timezone.now() + datetime.timedelta(days=30)).date()
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.channel == "cli" and event.actor is None and secret not in str(event.data)
    me = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}").get(reverse("api_me"))
    assert me.status_code == 200 and me.json()["user"] == "broker.agent"


def test_create_api_key_refuses_bad_input_with_one_line(settings, broker, broker_agent, trader_owner):
    settings.LANGUAGE_CODE = "en"
    base = ["create_api_key", "--organization", broker.tax_code]
    assert refused(*base, "--user", "trader.owner", "--scopes", "read").startswith("unknown_user: ")
    assert refused(*base, "--user", "nobody", "--scopes", "read").startswith("unknown_user: ")
    assert refused(*base, "--user", "broker.agent", "--scopes", "read,root").startswith("invalid_scope: ")
    assert refused(*base, "--user", "broker.agent", "--scopes", "read", "--days", "0").startswith(
        "invalid_expiry: "
    )
    broker_agent.is_active = False
    broker_agent.save(update_fields=["is_active"])
    assert refused(*base, "--user", "broker.agent", "--scopes", "read").startswith("not_allowed: ")
    assert not OrganizationAPIKey.objects.exists()


# --- broker_licence ------------------------------------------------------------------------------


@pytest.fixture
def applicant() -> Organization:
    organization = OrganizationFactory(kind=Organization.Kind.TRADER, name="Công ty Bình Minh")
    owner = UserFactory(organization=organization, role=User.Role.OWNER)
    signer = UserFactory(organization=organization, role=User.Role.SIGNER, username="binhminh.signer")
    agent_propose(actor=owner, user=signer, agent_number="CC-321")
    licence_application_submit(
        actor=owner, contact_name="Mai", contact_phone="+84912345678", contact_email="m@bm.vn"
    )
    return organization


def test_grant_decides_the_pending_application_with_its_proposed_agents(applicant):
    out, _ = run(
        "broker_licence", "grant", applicant.tax_code, "--number", "DLHQ-0900/2026",
        "--issued-on", timezone.localdate().isoformat(), "--expires-on", "2030-12-31",
        "--issued-by", "Cục HQ",
    )  # fmt: skip
    assert out.strip() == "DLHQ-0900/2026: active, Công ty Bình Minh, 1 agent(s)"
    licence = BrokerLicence.objects.get(number="DLHQ-0900/2026")
    assert licence.expires_on == datetime.date(2030, 12, 31) and licence.organization.kind == "broker"
    assert LicenceApplication.objects.get().status == "granted"
    assert AgentProposal.objects.get().status == "confirmed"
    assert AgentStaff.objects.get(agent_number="CC-321").user.username == "binhminh.signer"
    granted = AuditEvent.objects.get(action="licence.granted")
    assert granted.channel == "cli" and granted.actor is None


def test_grant_without_an_application_licenses_an_enterprise_customs_already_licensed(db):
    organization = OrganizationFactory(kind=Organization.Kind.BROKER)
    out, _ = run(
        "broker_licence", "grant", organization.tax_code, "--number", "DLHQ-1", "--issued-on", "2025-06-01"
    )
    assert out.strip() == f"DLHQ-1: active, {organization.name}, 0 agent(s)"


def test_grant_refuses_bad_input_with_one_line(settings, applicant, broker_licence):
    settings.LANGUAGE_CODE = "en"
    today = timezone.localdate().isoformat()
    grant = ["broker_licence", "grant"]
    assert refused(*grant, "0100109106", "--number", "N", "--issued-on", today).startswith(
        "unknown_organization: "
    )
    assert refused(*grant, applicant.tax_code, "--number", "N", "--issued-on", "01/02/2026").startswith(
        "invalid_date: --issued-on"
    )
    assert refused(
        *grant, applicant.tax_code, "--number", broker_licence.number, "--issued-on", today
    ).startswith("number: ")
    assert refused(*grant, applicant.tax_code, "--number", "N", "--issued-on", "2999-01-01").startswith(
        "invalid_date: "
    )
    assert refused(
        *grant, broker_licence.organization.tax_code, "--number", "N2", "--issued-on", today
    ).startswith("already_licensed: ")
    assert LicenceApplication.objects.get().status == "submitted"
    assert BrokerLicence.objects.count() == 1


def test_reject_needs_a_pending_application_and_a_reason(settings, applicant, broker):
    settings.LANGUAGE_CODE = "en"
    assert refused("broker_licence", "reject", applicant.tax_code, "--reason", " ").startswith(
        "reason_required: "
    )
    assert refused("broker_licence", "reject", broker.tax_code, "--reason", "x").startswith(
        "no_application: "
    )
    out, _ = run("broker_licence", "reject", applicant.tax_code, "--reason", "Hồ sơ thiếu")
    assert out.strip() == f"{applicant.tax_code}: application rejected"
    assert AuditEvent.objects.get(action="licence.application_rejected").channel == "cli"


def test_renew_sets_a_new_last_day_or_none(settings, broker_licence):
    settings.LANGUAGE_CODE = "en"
    out, _ = run(
        "broker_licence", "renew", broker_licence.number, "--expires-on", "2031-01-31", "--reason", "r"
    )
    assert out.strip() == f"{broker_licence.number}: active until 2031-01-31"
    out, _ = run("broker_licence", "renew", broker_licence.number, "--reason", "no term")
    assert out.strip() == f"{broker_licence.number}: active until no end date"
    assert refused("broker_licence", "renew", "NOPE", "--reason", "r").startswith("unknown_licence: ")
    past = refused(
        "broker_licence", "renew", broker_licence.number, "--expires-on", "2001-01-01", "--reason", "r"
    )
    assert past.startswith("invalid_date: ")


def test_agents_are_added_and_removed_from_the_command_line(settings, broker, broker_agent, trader_signer):
    settings.LANGUAGE_CODE = "en"
    newcomer = UserFactory(organization=broker, role=User.Role.SIGNER, username="new.agent")
    number = broker.licence.number
    out, _ = run("broker_licence", "add-agent", number, "--user", "new.agent", "--agent-number", "DL-77")
    assert out.strip() == f"DL-77: new.agent, agent of {number}"
    assert AgentStaff.objects.get(user=newcomer).joined_on == timezone.localdate()
    assert refused(
        "broker_licence", "add-agent", number, "--user", "trader.signer", "--agent-number", "DL-78"
    ).startswith("unknown_user: ")
    UserFactory(organization=broker, role=User.Role.SIGNER, username="second.agent")
    duplicate = refused(
        "broker_licence", "add-agent", number, "--user", "second.agent", "--agent-number", "DL-77"
    )
    assert duplicate.startswith("agent_number: ") and "(unique)" in duplicate
    agent_number = broker_agent.agent_profile.agent_number
    out, _ = run("broker_licence", "remove-agent", agent_number)
    assert out.strip() == f"{agent_number}: left on {timezone.localdate():%Y-%m-%d}"
    assert refused("broker_licence", "remove-agent", agent_number).startswith("invalid_transition: ")
    assert refused("broker_licence", "remove-agent", "DL-NONE").startswith("unknown_agent: ")
    assert AuditEvent.objects.get(action="agent.left").channel == "cli"
