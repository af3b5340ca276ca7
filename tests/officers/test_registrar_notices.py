"""Registrars are told of each licence application and agent proposal that awaits their decision:
a notice and a Vietnamese email naming the enterprise and linking to the console page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation

from accounts.models import Notification, Organization, User
from accounts.notices import notification_link
from brokers.models import AgentProposal, LicenceApplication
from brokers.services.licensing import (
    DECIDE_APPLICATION,
    DECIDE_PROPOSAL,
    agent_proposal_announce,
    agent_propose,
    licence_application_announce,
    licence_application_reject,
    licence_application_submit,
)
from core.errors import ApplicationError
from officers.permissions import OFFICER_GROUPS
from tests.factories import OrganizationFactory, UserFactory
from tests.officers.helpers import officer_in

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def officers(db) -> dict[str, User]:
    """Who may decide (a registrar, an administrator, one in both groups) and who may not."""
    return {
        "registrar": officer_in("registrar", username="registrar", email="registrar@customs.gov.vn"),
        "administrator": officer_in("administrator", username="chief", email="chief@customs.gov.vn"),
        "both": officer_in("registrar", "administrator", username="both", email="both@customs.gov.vn"),
        "viewer": officer_in("viewer", username="viewer", email="viewer@customs.gov.vn"),
        "investigator": officer_in("investigator", username="investigator", email="inv@customs.gov.vn"),
        "inactive": officer_in("registrar", username="gone", email="gone@customs.gov.vn", is_active=False),
        "suspended": officer_in(
            "registrar", username="away", email="away@customs.gov.vn", suspended_at=timezone.now()
        ),
    }


DECIDERS = {"registrar", "chief", "both"}


@pytest.fixture
def applicant() -> Organization:
    return OrganizationFactory(
        kind=Organization.Kind.BROKER, name="Công ty Đại lý Bình Minh", tax_code="0100109106"
    )


@pytest.fixture
def applicant_owner(applicant) -> User:
    return UserFactory(
        organization=applicant,
        role=User.Role.OWNER,
        username="applicant.owner",
        national_id_number="001190012345",
    )


@pytest.fixture
def applicant_signer(applicant) -> User:
    return UserFactory(
        organization=applicant,
        role=User.Role.SIGNER,
        username="applicant.signer",
        national_id_number="001090054321",
    )


def apply(owner: User) -> LicenceApplication:
    return licence_application_submit(
        actor=owner, contact_name="Trần Thị Mai", contact_phone="+84912345678", contact_email="m@bm.vn"
    )


def told(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def test_the_permissions_that_decide_are_the_registrars(officers):
    assert {DECIDE_APPLICATION, DECIDE_PROPOSAL} <= set(OFFICER_GROUPS["registrar"])
    assert not {DECIDE_APPLICATION, DECIDE_PROPOSAL} & set(OFFICER_GROUPS["viewer"])


def test_an_application_tells_each_registrar_once_by_a_vietnamese_email(
    officers,
    applicant_owner,
    applicant_signer,
    trader_owner,
    broker_owner,
    django_capture_on_commit_callbacks,
):
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-100")
    # The applicant's own proposal waits for its application: no one is told of it alone.
    assert told(Notification.Kind.AGENT_PROPOSED) == []
    with django_capture_on_commit_callbacks(execute=True):
        application = apply(applicant_owner)

    assert told(Notification.Kind.LICENCE_APPLIED) == sorted(DECIDERS)
    notice = Notification.objects.filter(kind=Notification.Kind.LICENCE_APPLIED).first()
    assert notice.params == {
        "username": notice.user.username,
        "broker": "Công ty Đại lý Bình Minh",
        "tax_code": "0100109106",
        "application": application.pk,
        "agents": 1,
    }
    link = f"{settings.SITE_URL.rstrip('/')}/officers/brokers/licenceapplication/{application.pk}/change/"
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        f"{name}@customs.gov.vn" for name in DECIDERS
    )
    message = mail.outbox[0]
    assert message.subject == "Hồ sơ mới đề nghị công nhận đại lý hải quan"
    assert message.body == (
        "Công ty Đại lý Bình Minh (mã số thuế 0100109106) đã nộp hồ sơ đề nghị công nhận là đại lý "
        "hải quan (số nhân viên đại lý được đề nghị: 1). Vui lòng xem xét hồ sơ trên Trang công chức "
        "hải quan, sau đó công nhận hoặc từ chối.\n\n"
        f"Mở hồ sơ trên Trang công chức hải quan:\n{link}"
    )
    # Nothing personal or secret: no ID number, agent number or contact, no password link.
    for secret in ("001190012345", "001090054321", "CC-100", "+84912345678", "Trần Thị Mai", "token"):
        assert secret not in message.body

    # The same application submitted again is refused, and told to no one again.
    with pytest.raises(ApplicationError) as refused, django_capture_on_commit_callbacks(execute=True):
        apply(applicant_owner)
    assert refused.value.code == "application_pending"
    assert licence_application_announce(application=application) == []
    assert len(told(Notification.Kind.LICENCE_APPLIED)) == 3 and len(mail.outbox) == 3


def test_an_application_submitted_again_after_a_rejection_is_told_again(
    officers, applicant_owner, applicant_signer
):
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-100")
    first = apply(applicant_owner)
    licence_application_reject(application=first, actor=officers["registrar"], reason="Thiếu hồ sơ")
    second = apply(applicant_owner)
    applications = Notification.objects.filter(kind=Notification.Kind.LICENCE_APPLIED)
    assert (
        sorted(applications.values_list("params__application", flat=True)) == [first.pk] * 3 + [second.pk] * 3
    )


def test_a_licensed_brokers_proposal_tells_each_registrar_with_no_personal_data(
    officers, broker, broker_owner, trader_owner, django_capture_on_commit_callbacks
):
    signer = UserFactory(
        organization=broker, role=User.Role.SIGNER, national_id_number="001090099999", last_name="Phạm"
    )
    with django_capture_on_commit_callbacks(execute=True):
        proposal = agent_propose(actor=broker_owner, user=signer, agent_number="CC-777")

    assert told(Notification.Kind.AGENT_PROPOSED) == sorted(DECIDERS)
    assert told(Notification.Kind.LICENCE_APPLIED) == []
    link = f"{settings.SITE_URL.rstrip('/')}/officers/brokers/agentproposal/{proposal.pk}/change/"
    assert len(mail.outbox) == 3
    message = mail.outbox[0]
    assert message.subject == "Đề nghị mới công nhận nhân viên đại lý hải quan"
    assert message.body == (
        f"{broker.name} (mã số thuế {broker.tax_code}) đã đề nghị công nhận một nhân viên của mình là "
        "nhân viên đại lý hải quan. Vui lòng xem xét đề nghị trên Trang công chức hải quan, sau đó "
        "xác nhận hoặc từ chối.\n\n"
        f"Mở đề nghị trên Trang công chức hải quan:\n{link}"
    )
    for secret in ("001090099999", "CC-777", signer.username, "Phạm"):
        assert secret not in message.body

    # The same proposal again is refused; announcing it again tells no one twice.
    with pytest.raises(ApplicationError) as refused:
        agent_propose(actor=broker_owner, user=signer, agent_number="CC-777")
    assert refused.value.code == "agent_not_eligible"
    assert agent_proposal_announce(proposal=proposal) == []
    assert Notification.objects.filter(kind=Notification.Kind.AGENT_PROPOSED).count() == 3


def test_the_notice_leads_a_registrar_to_the_console_page_where_it_is_decided(
    console, applicant_owner, applicant_signer
):
    client = console("registrar")
    agent_propose(actor=applicant_owner, user=applicant_signer, agent_number="CC-100")
    application = apply(applicant_owner)
    notice = Notification.objects.get(user=client.officer, kind=Notification.Kind.LICENCE_APPLIED)
    path = f"/officers/brokers/licenceapplication/{application.pk}/change/"
    page = client.get(path)
    assert page.status_code == 200
    assert f"/officers/brokers/licenceapplication/{application.pk}/do/grant/" in page.content.decode()
    with translation.override("en"):
        assert notification_link(notice) == (path, "Open the application in the officer console")
    assert AgentProposal.objects.filter(status=AgentProposal.Status.PROPOSED).count() == 1


def test_the_layers_still_hold():
    """brokers finds who may decide through accounts and Django's permissions, never by importing
    officers; officers gives the console's link when it starts. In its own process: the linter
    reconfigures logging."""
    linter = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    result = subprocess.run(
        [sys.executable, "-c", linter],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
