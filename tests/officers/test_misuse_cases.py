"""A misuse report is a case for officers at once: the officers' app listens to the signatures app's
``abuse_reported`` and opens the case, opened by the system, in the report's own transaction."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from audit.models import AuditEvent, Case, Flag
from officers.services.cases import case_open
from signatures.services.misuse import abuse_report
from signatures.signals import abuse_reported
from tests.officers.helpers import officer_in

pytestmark = pytest.mark.django_db


def make_flag(organization, kind):
    now = timezone.now()
    return Flag.objects.create(
        kind=kind, severity="high", organization=organization, explanation="seen", first_seen_at=now,
        last_seen_at=now,
    )  # fmt: skip


def test_a_misuse_report_opens_a_case_with_its_flag_before_the_report_is_recorded(
    trader, trader_owner, trader_signer
):
    with translation.override("en"):
        report = abuse_report(reporter=trader_owner, description="not us", reported_user=trader_signer)
    (case,) = Case.objects.all()
    assert list(case.flags.all()) == [report.flag]
    assert (case.status, case.organization, case.opened_by) == ("open", trader, None)
    assert case.title == f"Misuse reported by {trader.name}"
    opened = AuditEvent.objects.get(action="case.opened")
    assert opened.actor is None and opened.data == {"flags": [report.flag.pk], "assignee": None}
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions.index("flag.raised") < actions.index("case.opened") < actions.index("abuse.reported")


def test_related_flags_in_an_open_case_stay_there_and_a_repeated_report_opens_no_second_case(
    trader, trader_owner, trader_signer
):
    busy, free = make_flag(trader, "foreign_party_device"), make_flag(trader, "off_hours")
    earlier = case_open(flags=[busy], actor=officer_in("investigator"))
    report = abuse_report(
        reporter=trader_owner, description="not us", reported_user=trader_signer, related_flags=[busy, free]
    )
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert set(case.flags.all()) == {report.flag, free}
    assert list(earlier.flags.all()) == [busy]
    again = abuse_report(reporter=trader_owner, description="still", reported_user=trader_signer)
    assert again.flag == report.flag, "the same open flag, counted again"
    assert Case.objects.count() == 2 and AuditEvent.objects.filter(action="case.opened").count() == 2


def test_a_failure_opening_the_case_undoes_the_report(trader, trader_owner, trader_signer):
    def refuse(**_kwargs):
        raise RuntimeError("the case could not be opened")

    abuse_reported.connect(refuse, dispatch_uid="test.refuse")
    try:
        with pytest.raises(RuntimeError):
            abuse_report(reporter=trader_owner, description="not us", reported_user=trader_signer)
    finally:
        abuse_reported.disconnect(dispatch_uid="test.refuse")
    assert not Case.objects.exists() and not Flag.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["abuse.reported", "flag.raised"]).exists()


def test_a_misuse_report_s_page_shows_the_report_and_links_its_flag(console, trader_owner, trader_signer):
    report = abuse_report(reporter=trader_owner, description="not us", reported_user=trader_signer)
    page = console("viewer").get(f"/officers/signatures/abusereport/{report.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "not us" in body
    assert f'href="/officers/audit/flag/{report.flag.pk}/change/"' in body
