"""One-time authorisation codes: a trader's manager issues one, its broker proposes a mandate with
it instead of the registration date, and it works once, for a short time, for that trader only."""

from __future__ import annotations

import datetime
import logging

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from brokers.models import Authorization, MandateCode
from brokers.services.api_keys import api_key_create
from brokers.services.mandate_codes import ALPHABET, mandate_code_cancel, mandate_code_issue
from brokers.services.mandates import UNMATCHED_PROPOSALS, authorization_invite
from core.errors import ApplicationError
from tests.factories import OrganizationFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def _propose(broker_owner, trader, **fact):
    start = timezone.localdate()
    return authorization_invite(
        actor=broker_owner, trader_tax_code=trader.tax_code, scopes=["export"], representation="direct",
        contract_number="HĐ-MC", valid_from=start, valid_until=start + datetime.timedelta(days=30), **fact,
    )  # fmt: skip


def _refusal(call) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        call()
    return refused.value


@pytest.fixture(autouse=True)
def _fresh_limit(broker_owner):
    UNMATCHED_PROPOSALS.reset(f"organization:{broker_owner.organization_id}")


def test_a_code_proposes_a_mandate_once(trader, trader_owner, broker_owner):
    record, code = mandate_code_issue(actor=trader_owner)
    assert len(code) == 9 and code[4] == "-" and set(code.replace("-", "")) <= set(ALPHABET)
    assert code.replace("-", "") not in record.code_hash  # kept only as a keyed hash
    mandate = _propose(broker_owner, trader, authorization_code=code.lower().replace("-", " "))
    assert (mandate.status, mandate.trader_id) == (Authorization.Status.INVITED, trader.pk)
    record.refresh_from_db()
    assert (record.used_by_broker_id, record.is_open) == (broker_owner.organization_id, False)
    second = _refusal(lambda: _propose(broker_owner, trader, authorization_code=code))
    assert (second.code, second.status_code) == ("known_fact_mismatch", 400)
    assert Authorization.objects.count() == 1
    assert AuditEvent.objects.filter(action="mandate_code.issued", organization=trader).count() == 1


def test_a_wrong_expired_cancelled_or_another_traders_code_gets_the_one_refusal(
    trader, trader_owner, broker_owner
):
    wrong_date = _refusal(
        lambda: _propose(broker_owner, trader, trader_registered_on=datetime.date(2001, 1, 1))
    )
    other_trader = OrganizationFactory(name="Công ty Khác")
    other_owner = UserFactory(organization=other_trader, role="owner", username="other.owner")
    _record, others_code = mandate_code_issue(actor=other_owner)
    cancelled, cancelled_code = mandate_code_issue(actor=trader_owner)
    mandate_code_cancel(actor=trader_owner, pk=cancelled.pk)
    _expiring, expired_code = mandate_code_issue(actor=trader_owner)
    refusals = [_refusal(lambda: _propose(broker_owner, trader, authorization_code="ABCD-EFGH"))]
    refusals.append(_refusal(lambda: _propose(broker_owner, trader, authorization_code=others_code)))
    refusals.append(_refusal(lambda: _propose(broker_owner, trader, authorization_code=cancelled_code)))
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=73)):
        refusals.append(_refusal(lambda: _propose(broker_owner, trader, authorization_code=expired_code)))
    assert {(r.code, r.detail, r.status_code) for r in refusals} == {
        (wrong_date.code, wrong_date.detail, wrong_date.status_code)
    }
    assert {tuple(r.fields) for r in refusals} == {("trader_tax_code", "authorization_code")}
    assert not Authorization.objects.exists()


def test_wrong_codes_count_against_the_same_limit(trader, trader_owner, broker_owner, settings):
    settings.KNOWN_FACT_FAILURES_PER_MINUTE = 2
    _record, code = mandate_code_issue(actor=trader_owner)
    for guess in ("AAAA-AAAA", "BBBB-BBBB"):
        assert _refusal(lambda g=guess: _propose(broker_owner, trader, authorization_code=g)).code == (
            "known_fact_mismatch"
        )
    limited = _refusal(lambda: _propose(broker_owner, trader, authorization_code=code))
    assert (limited.code, limited.status_code) == ("too_many_attempts", 429)
    assert MandateCode.objects.get().is_open  # the right code is still there for later


def test_neither_or_both_facts_is_invalid_input(trader, trader_owner, broker_owner):
    _record, code = mandate_code_issue(actor=trader_owner)
    registered = timezone.localdate(trader.created_at)
    for fact in ({}, {"trader_registered_on": registered, "authorization_code": code}):
        refusal = _refusal(lambda f=fact: _propose(broker_owner, trader, **f))
        assert (refusal.code, sorted(refusal.fields)) == (
            "invalid_input",
            ["authorization_code", "trader_registered_on"],
        )
    assert MandateCode.objects.get().is_open


def test_only_a_traders_manager_issues_and_cancels_its_own(trader, trader_owner, trader_signer, broker_owner):
    assert _refusal(lambda: mandate_code_issue(actor=trader_signer)).code == "not_allowed"
    assert _refusal(lambda: mandate_code_issue(actor=broker_owner)).code == "not_allowed"
    record, _code = mandate_code_issue(actor=trader_owner)
    outsider = UserFactory(organization=OrganizationFactory(name="Công ty Ngoài"), role="owner")
    assert _refusal(lambda: mandate_code_cancel(actor=outsider, pk=record.pk)).code == "not_found"
    record.refresh_from_db()
    assert record.is_open


def test_the_portal_page_shows_the_known_fact_and_a_new_code_once(client, trader, trader_owner, caplog):
    assert sign_in(client, "trader.owner").status_code == 302
    page = client.get(reverse("mandate_codes"))
    assert page.status_code == 200
    text = page.content.decode()
    assert trader.tax_code in text and timezone.localdate(trader.created_at).strftime("%d/%m/%Y") in text
    with caplog.at_level(logging.DEBUG):
        issued = client.post(reverse("mandate_codes"), {"action": "issue"})
    assert issued.status_code == 200
    record = MandateCode.objects.get()
    shown = issued.content.decode().split('class="secret">')[1:]
    code = shown[0].split("<")[0]
    assert len(code) == 9
    assert code not in client.get(reverse("mandate_codes")).content.decode()  # shown on that answer only
    assert code not in caplog.text and code.replace("-", "") not in caplog.text
    cancelled = client.post(reverse("mandate_codes"), {"action": "cancel", "code": str(record.pk)})
    assert cancelled.status_code == 302
    record.refresh_from_db()
    assert record.cancelled_at is not None
    assert client.post(reverse("mandate_codes"), {"action": "cancel", "code": "²"}).status_code == 404


def test_the_page_is_for_a_traders_managers_only(client, trader_signer, broker_owner):
    for username in ("trader.signer", "broker.owner"):
        visitor = Client()
        sign_in(visitor, username)
        assert visitor.get(reverse("mandate_codes")).status_code == 404
        assert visitor.post(reverse("mandate_codes"), {"action": "issue"}).status_code == 404
    assert not MandateCode.objects.exists()


def test_a_broker_proposes_with_a_code_through_the_api(trader, trader_owner, broker_owner):
    _record, code = mandate_code_issue(actor=trader_owner)
    _key, secret = api_key_create(actor=broker_owner, holder=broker_owner, name="ecus", scopes=["manage"])
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    start = timezone.localdate()
    body = {
        "trader_tax_code": trader.tax_code, "authorization_code": code, "scopes": ["import"],
        "representation": "direct", "contract_number": "HĐ-API",
        "valid_from": start.isoformat(), "valid_until": (start + datetime.timedelta(days=30)).isoformat(),
    }  # fmt: skip
    created = api.post(reverse("api_authorizations"), body, content_type="application/json")
    assert created.status_code == 201, created.content
    again = api.post(reverse("api_authorizations"), body, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (400, "known_fact_mismatch")
    neither = api.post(
        reverse("api_authorizations"), {k: v for k, v in body.items() if k != "authorization_code"},
        content_type="application/json",
    )  # fmt: skip
    assert (neither.status_code, neither.json()["code"]) == (400, "invalid_input")
