"""From a mandate to a signature and back to the people it concerns, in their browsers: the trader's
owner invites a signer and gives a broker a mandate from the directory; the broker accepts and
makes a key for its agent; the agent's tool files a declaration signed with openssl through the
API; the trader sees it and its notification; an officer with TOTP finds who signed it."""

from __future__ import annotations

import base64
import datetime
import json
import re

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Notification, Organization, User
from brokers.models import Authorization
from officers.services.groups import officer_group_set
from tests.factories import (
    TEST_PASSWORD,
    AgentStaffFactory,
    BrokerLicenceFactory,
    OfficerFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.signatures.helpers import bind_certificate, trust
from tests.signatures.pki_factory import Pki, openssl_cms_sign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIGNER_PASSWORD = "gió-lộng-qua-ô-cửa-sổ-mùa-thu-5530"


def test_a_mandate_a_signature_through_the_api_and_who_signed_it(
    journey, live_server, secrets_of_the_journey
):
    secrets_of_the_journey += [TEST_PASSWORD, SIGNER_PASSWORD, "001203007788"]
    pki = Pki()
    trust(pki.root, pki.intermediate)
    trader = OrganizationFactory(name="Công ty TNHH Hòa Bình", status=Organization.Status.ACTIVE)
    trader_owner = UserFactory(organization=trader, role="owner", username="hoabinh.owner")
    licence = BrokerLicenceFactory(organization__name="Công ty CP Đại lý Sao Mai")
    broker = licence.organization
    broker_owner = UserFactory(organization=broker, role="owner", username="saomai.owner")
    agent = AgentStaffFactory(licence=licence, user__username="saomai.agent").user
    broker_key = pki.signer(company=broker.name, tax_code=broker.tax_code, slot=71, key="p256")
    bind_certificate(broker_owner, broker_key, [agent])
    officer = OfficerFactory(username="officer.lan")
    officer_group_set(officer=officer, groups=["viewer"])

    # The trader's owner invites a signer; the signer accepts from the email, in their own browser.
    owner = journey("trader-owner")
    owner.sign_in(trader_owner)
    page = owner.go("/accounts/staff/invite/")
    for name, value in {"first_name": "Mai", "last_name": "Lê", "email": "mai.le@hoabinh.example",
                        "national_id_number": "001203007788"}.items():  # fmt: skip
        page.fill(f"[name={name}]", value)
    page.check("[name=role][value=signer]")
    owner.shot("invite a signer")
    owner.submit("national_id_number")
    invitation = next(m for m in mail.outbox if "mai.le@hoabinh.example" in m.to)
    link = re.search(r"https?://[^/\s]+(/accounts/invitation/\S+/)", invitation.body).group(1)
    signer = journey("trader-signer")
    page = signer.go(link)
    page.fill("[name=username]", "mai.le")
    page.fill("[name=password1]", SIGNER_PASSWORD)
    page.fill("[name=password2]", SIGNER_PASSWORD)
    signer.shot("accept the invitation")
    signer.submit("password2")
    assert User.objects.get(username="mai.le").role == "signer"
    signer.shot("joined")

    # The owner finds the broker in the public directory and gives it an import mandate.
    page = owner.go(f"/brokers/?q={broker.tax_code}")
    assert licence.number in owner.text()
    owner.shot("directory")
    page.click(f"a[href*='broker={broker.tax_code}']")
    page.wait_for_load_state()
    today = timezone.localdate()
    page.check("[name=scopes][value=import]")
    page.select_option("[name=representation]", "direct")
    for name, value in {"contract_number": "HĐ-2026/17", "valid_from": today.strftime("%d/%m/%Y"),
                        "valid_until": (today + datetime.timedelta(days=180)).strftime("%d/%m/%Y"),
                        "grantor_name": "Nguyễn Văn An", "grantor_title": "Giám đốc"}.items():  # fmt: skip
        page.fill(f"[name={name}]", value)
    owner.shot("give a mandate")
    owner.submit("grantor_title")
    # Checked before it is sent: nothing is offered yet.
    assert not Authorization.objects.filter(trader=trader, broker=broker).exists()
    owner.shot("check the mandate")
    page.click("form:has([name=confirmed]) button:not([name=change])")
    page.wait_for_load_state()
    mandate = Authorization.objects.get(trader=trader, broker=broker)
    assert mandate.contract_number == "HĐ-2026/17"

    # The broker's owner accepts it and makes a key for the agent.
    broker_person = journey("broker-owner")
    broker_person.sign_in(broker_owner)
    page = broker_person.go("/brokers/mandates/")
    broker_person.shot("mandate to accept")
    page.click(f"a[href$='/brokers/mandates/{mandate.pk}/confirm/?action=accept']")
    page.wait_for_load_state()
    broker_person.shot("accept the mandate?")
    page.click(f"form[action$='/brokers/mandates/{mandate.pk}/'] [type=submit]")
    page.wait_for_load_state()
    mandate.refresh_from_db()
    assert mandate.status == "active"
    page = broker_person.go("/brokers/api-keys/")
    page.fill("[name=name]", "ECUS của đại lý")
    page.select_option("[name=holder]", str(agent.pk))
    page.check("[name=scopes][value=read]")
    page.check("[name=scopes][value=declare]")
    broker_person.submit("expires_in_days")
    api_key = page.inner_text("code.secret").strip()
    broker_person.shot("key shown once")

    # The agent's own tool signs with openssl and files through the API.
    number = "10598765432"
    document = f"<ToKhai so='{number}'><Loai>import</Loai></ToKhai>".encode()
    body = json.dumps({
        "number": number, "kind": "import", "trader_tax_code": trader.tax_code, "representation": "direct",
        "document": base64.b64encode(document).decode(),
        "signature": base64.b64encode(openssl_cms_sign(document, broker_key)).decode(),
    }).encode()  # fmt: skip
    tool = journey("agent-tool").context.request  # an HTTP client without a browser page
    response = tool.post(
        live_server.url + "/api/v1/declarations/", data=body,
        headers={"Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status == 201, response.text()
    filed = response.json()
    assert filed["signature"]["agent_number"] == agent.agent_profile.agent_number

    # The trader sees the signature made in its name, and was told of it.
    owner.go("/declarations/")
    assert number in owner.text() and agent.agent_profile.agent_number in owner.text()
    owner.shot("signatures in our name")
    owner.go("/accounts/notifications/")
    assert number in owner.text()
    owner.shot("notification")
    assert Notification.objects.filter(user=trader_owner, kind="declaration_signed").count() == 1

    # An officer, with a second factor, finds who signed it from its number.
    desk = journey("officer")
    desk.sign_in(officer, console=True)
    desk.shot("console")
    desk.go(f"/officers/who-signed/?declaration_number={number}")
    text = desk.text()
    assert agent.username in text and broker.tax_code in text and trader.tax_code in text
    assert "HĐ-2026/17" in text
    desk.shot("who signed")
