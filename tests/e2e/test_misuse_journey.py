"""A trader's account used on a broker's computer: the sign-in raises ``foreign_party_device``, the
owner is asked "was this you?" and answers "this was not me" from the email, which suspends the
signer's certificate and opens a case; an officer with TOTP works the case to its close and the
owner is told (issue "Proof under real conditions", browser journeys)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Notification, Organization
from audit.models import Case, Flag
from officers.services.groups import officer_group_set
from signatures.models import Certificate
from tests.factories import (
    TEST_PASSWORD,
    AgentStaffFactory,
    BrokerLicenceFactory,
    OfficerFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.signatures.helpers import bind_certificate, trust
from tests.signatures.pki_factory import Pki

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_shared_account_is_flagged_disowned_and_worked_into_a_closed_case(journey, secrets_of_the_journey):
    secrets_of_the_journey.append(TEST_PASSWORD)
    pki = Pki()
    trust(pki.root, pki.intermediate)
    trader = OrganizationFactory(name="Công ty TNHH Hòa Bình", status=Organization.Status.ACTIVE)
    owner_user = UserFactory(organization=trader, role="owner", username="hoabinh.owner")
    signer_user = UserFactory(organization=trader, role="signer", username="hoabinh.signer")
    certificate = bind_certificate(
        owner_user, pki.signer(company=trader.name, tax_code=trader.tax_code, slot=72), [signer_user]
    )
    licence = BrokerLicenceFactory(organization__name="Công ty CP Đại lý Sao Mai")
    agent = AgentStaffFactory(licence=licence, user__username="saomai.agent").user
    investigator = OfficerFactory(username="officer.minh")
    officer_group_set(officer=investigator, groups=["investigator"])

    # The broker's agent works on its own computer; then the trader's signer account is used there.
    broker_pc = journey("broker-computer")
    broker_pc.sign_in(agent)
    broker_pc.shot("agent signed in")
    broker_pc.sign_out()
    broker_pc.sign_in(signer_user)
    broker_pc.shot("trader account on the broker's computer")
    flag = Flag.objects.get(kind="foreign_party_device", user=signer_user)
    assert flag.organization == trader and flag.severity in ("medium", "high")

    # The owner is asked by email, and answers "this was not me" from the link alone.
    question = next(
        m for m in mail.outbox if owner_user.email in m.to and "/accounts/sign-in-review/" in m.body
    )
    link = re.search(r"https?://[^/\s]+(/accounts/sign-in-review/\S+/)", question.body).group(1)
    owner = journey("trader-owner")
    page = owner.go(link)
    owner.shot("was this you")
    page.click("button[value=not_me]")
    page.wait_for_load_state()
    owner.shot("reported")
    certificate.refresh_from_db()
    signer_user.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    assert signer_user.must_change_password
    case = Case.objects.get(status="open")
    assert flag in case.flags.all() and case.organization == trader

    # An officer with a second factor works the case: a note, then the outcome.
    desk = journey("officer")
    desk.sign_in(investigator, console=True)
    page = desk.go("/officers/audit/case/")
    assert case.title in desk.text()
    desk.shot("cases")
    page = desk.go(f"/officers/audit/case/{case.pk}/do/note/")
    page.fill("[name=text]", "Đã liên hệ doanh nghiệp: tài khoản bị dùng trên máy của đại lý.")
    desk.submit("text")
    page = desk.go(f"/officers/audit/case/{case.pk}/do/close/")
    page.select_option("[name=outcome]", "confirmed_misuse")
    page.fill("[name=text]", "Xác nhận cho mượn tài khoản; đã yêu cầu đổi mật khẩu.")
    desk.shot("close the case")
    desk.submit("outcome")
    desk.shot("case closed")
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "confirmed_misuse")
    assert case.notes.count() >= 1
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED

    # The owner is told of the outcome in the portal.
    owner.sign_in(owner_user)
    owner.go("/accounts/notifications/")
    owner.shot("told of the outcome")
    assert Notification.objects.filter(user=owner_user, kind="case_closed").exists()
    assert str(case.pk) in owner.text()
