"""Compliance classification: signals to a level and its reasons, the nightly run, an officer's
override (with a reason, audited), and its visible effect: the suggested channel on declarations."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent, Case, Flag
from brokers.models import OperationReport
from brokers.services.api_keys import api_key_create
from config.schedules import SCHEDULES
from core.errors import ApplicationError
from officers.policies import Signals, classify
from officers.services import compliance as services
from officers.services.cases import case_close, case_open
from tests.helpers import sign_in
from tests.officers.helpers import officer_in

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def flag(organization, kind, outcome=""):
    return Flag.objects.create(
        kind=kind, severity="high", organization=organization, explanation="x", first_seen_at=NOW,
        last_seen_at=NOW, outcome=outcome, status="resolved" if outcome else "open",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("signals", "verified_days_ago", "level"),
    [
        (Signals(), None, "high"),
        (Signals(), 400, "prioritised"),
        (Signals(account_sharing=2), 400, "moderate"),
        (Signals(certificate_lending=2), None, "poor"),
        (Signals(non_cooperation=1, confirmed_misuse=1), None, "non_compliant"),
        (Signals(missed_reports=1, late_reports=1), None, "moderate"),
    ],
)
def test_the_rule_maps_signals_to_a_level(signals, verified_days_ago, level):
    verified = NOW - datetime.timedelta(days=verified_days_ago) if verified_days_ago else None
    assert classify(signals, verified_at=verified, now=NOW)[0] == level


def test_classification_counts_each_signal_and_lists_the_reasons(trader, outsider, trader_signer):
    flag(trader, "certificate_foreign_use")
    flag(trader, "certificate_foreign_use", outcome="false_positive")  # cleared: does not count
    flag(trader, "foreign_party_device")
    flag(outsider.organization, "certificate_foreign_use")  # someone else's
    investigator = officer_in("investigator")
    case = case_open(flags=[flag(trader, "abuse_report")], actor=investigator)
    case_close(case=case, outcome=Case.Outcome.CONFIRMED_MISUSE, note="yes", actor=investigator)
    organization = services.compliance_classify(organization=trader)
    codes = {reason["code"]: reason["count"] for reason in organization.compliance_reasons}
    assert codes == {"certificate_lending": 1, "account_sharing": 1, "confirmed_misuse": 1}
    assert organization.compliance_level == "poor"  # 2 + 1 + 4 points
    assert organization.suggested_channel == "red"
    event = AuditEvent.objects.get(action=Action.ORGANIZATION_CLASSIFIED, organization=trader)
    assert event.actor is None and event.data["level"] == "poor" and event.data["previous"] == "unclassified"
    # Nothing new, nothing recorded.
    services.compliance_classify(organization=trader)
    assert AuditEvent.objects.filter(action=Action.ORGANIZATION_CLASSIFIED, organization=trader).count() == 1


def test_missed_broker_reports_count_against_the_broker(broker):
    OperationReport.objects.create(
        broker=broker, period_start=datetime.date(2026, 4, 1), period_end=datetime.date(2026, 6, 30),
        due_on=timezone.localdate() - datetime.timedelta(days=30), status="missing",
    )  # fmt: skip
    broker.non_cooperation = True
    broker.save(update_fields=["non_cooperation"])
    broker = services.compliance_classify(organization=broker)
    assert {r["code"] for r in broker.compliance_reasons} == {"missed_reports", "non_cooperation"}
    assert broker.compliance_level == "poor"


def test_the_nightly_run_classifies_everyone_and_is_scheduled(trader, outsider):
    result = services.compliance_classify_all()
    assert result == {"classified": 2, "failed": 0}
    trader.refresh_from_db()
    assert trader.compliance_level == "high" and trader.compliance_classified_at is not None
    assert SCHEDULES["compliance-classification"].task == "officers.tasks.compliance_classify_all"


def test_an_investigator_classifies_an_enterprise_and_its_channel_changes(world, console):
    record = world.sign(world.trader_signer, world.trader_key)
    services.compliance_classify(organization=world.trader)
    owner = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(owner, world.trader_owner.username)
    page = owner.get(reverse("declaration_list"))
    assert page.status_code == 200 and "channel-green" in page.content.decode()

    client = console("investigator")
    url = f"/officers/accounts/organization/{world.trader.pk}/do/classify/"
    response = client.post(url, {"level": "non_compliant", "reason": ""})
    assert response.status_code == 400  # no reason, no override
    world.trader.refresh_from_db()
    assert world.trader.compliance_level == "high"
    response = client.post(url, {"level": "non_compliant", "reason": "smuggling case 12/2026"})
    assert response.status_code == 302
    world.trader.refresh_from_db()
    assert (world.trader.compliance_level, world.trader.suggested_channel) == ("non_compliant", "red")
    assert world.trader.compliance_computed_level == "high"
    event = AuditEvent.objects.filter(action=Action.ORGANIZATION_CLASSIFIED, actor=client.officer).get()
    assert event.data["reason"] == "smuggling case 12/2026" and event.data["level"] == "non_compliant"
    # Visible to the enterprise and in the API.
    assert "channel-red" in owner.get(reverse("declaration_list")).content.decode()
    _key, secret = api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="ecus", scopes=["read"]
    )
    world.sign(world.broker_agent, world.broker_key, number="777")
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    rows = api.get(reverse("api_declarations")).json()["results"]
    assert {row["number"]: row["suggested_channel"] for row in rows}["777"] == "red"
    # The nightly run keeps the officer's level; clearing it lets the computed one apply again.
    services.compliance_classify_all()
    world.trader.refresh_from_db()
    assert world.trader.compliance_level == "non_compliant"
    clear = f"/officers/accounts/organization/{world.trader.pk}/do/clear-classification/"
    assert client.post(clear, {"reason": "appeal granted"}).status_code == 302
    world.trader.refresh_from_db()
    assert world.trader.compliance_level == "high" and record.trader == world.trader


@pytest.mark.parametrize("group", ["viewer", "registrar"])
def test_only_investigators_and_administrators_classify(trader, console, group):
    client = console(group)
    response = client.post(
        f"/officers/accounts/organization/{trader.pk}/do/classify/", {"level": "poor", "reason": "x"}
    )
    assert response.status_code == 403
    with pytest.raises(ApplicationError) as refusal:
        services.compliance_override_set(organization=trader, level="poor", reason="x", actor=client.officer)
    assert refusal.value.code == "not_allowed"
    trader.refresh_from_db()
    assert trader.compliance_level == "unclassified"


def test_an_override_to_an_unknown_level_is_refused(trader):
    with pytest.raises(ApplicationError) as refusal:
        services.compliance_override_set(
            organization=trader, level="unclassified", reason="x", actor=officer_in("administrator")
        )
    assert refusal.value.code == "level_invalid"


def test_the_console_names_the_channel_and_the_working_days_in_words(world, console):
    from accounts.models import Organization

    Organization.objects.filter(pk=world.trader.pk).update(compliance_level="high", working_days="123456")
    page = console("investigator").get(
        f"/officers/accounts/organization/{world.trader.pk}/change/", HTTP_ACCEPT_LANGUAGE="vi"
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "luồng xanh" in html and ">green<" not in html
    assert "Thứ Hai, Thứ Ba, Thứ Tư, Thứ Năm, Thứ Sáu, Thứ Bảy" in html and "123456" not in html
