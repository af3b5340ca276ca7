"""Working flags into cases: queue filters, grouping, assignment, notes, closing with an outcome
that resolves the flags and tells the enterprise; each step audited; only investigators."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import Notification
from audit.models import Action, AuditEvent, Case, Flag
from core.errors import ApplicationError
from officers.services import cases as services
from tests.officers.helpers import officer_in

pytestmark = pytest.mark.django_db


def make_flag(organization, kind="certificate_foreign_use", severity="high", days_ago=0, user=None):
    at = timezone.now() - datetime.timedelta(days=days_ago)
    return Flag.objects.create(
        kind=kind, severity=severity, organization=organization, user=user, explanation="seen",
        first_seen_at=at, last_seen_at=at,
    )  # fmt: skip


def test_the_queue_filters_by_severity_kind_organisation_and_age(console, trader, outsider):
    high = make_flag(trader)
    low_old = make_flag(trader, kind="foreign_party_device", severity="low", days_ago=40)
    other = make_flag(outsider.organization, kind="abuse_report", severity="medium", days_ago=3)
    client = console("viewer")

    def shown(**params) -> set[int]:
        response = client.get("/officers/audit/flag/", params)
        assert response.status_code == 200
        return {flag.pk for flag in response.context["cl"].result_list}

    assert shown() == {high.pk, low_old.pk, other.pk}
    assert shown(severity__exact="high") == {high.pk}
    assert shown(kind="foreign_party_device") == {low_old.pk}
    assert shown(organization__id__exact=outsider.organization.pk) == {other.pk}
    assert shown(age="day") == {high.pk}
    assert shown(age="old") == {low_old.pk}


def test_an_investigator_works_flags_into_a_closed_case(console, trader, trader_owner):
    first, second = make_flag(trader), make_flag(trader, kind="foreign_party_device")
    client = console("investigator")
    colleague = officer_in("investigator")
    # Bulk action on the queue: the form first, then the confirmed case.
    data = {"action": "open_case", "_selected_action": [first.pk, second.pk]}
    response = client.post("/officers/audit/flag/", data)
    assert response.status_code == 200 and response.context["form"] is not None
    response = client.post(
        "/officers/audit/flag/",
        {**data, "confirm": "1", "title": "Lent certificate", "assignee": colleague.pk},
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert set(case.flags.all()) == {first, second}
    assert (case.assignee, case.organization, case.opened_by) == (colleague, trader, client.officer)
    url = f"/officers/audit/case/{case.pk}/do/"
    assert client.post(url + "note/", {"text": "called the owner"}).status_code == 302
    assert client.post(url + "assign/", {"assignee": client.officer.pk}).status_code == 302
    response = client.post(url + "close/", {"outcome": "confirmed_misuse", "text": ""})
    assert response.status_code == 400  # the closing note is required
    case.refresh_from_db()
    assert case.status == "open"
    response = client.post(url + "close/", {"outcome": "confirmed_misuse", "text": "the broker used it"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.outcome, case.assignee) == ("closed", "confirmed_misuse", client.officer)
    assert [note.text for note in case.notes.all()] == ["called the owner", "the broker used it"]
    for flag in (first, second):
        flag.refresh_from_db()
        assert (flag.status, flag.outcome) == ("resolved", "confirmed_misuse")
    actions = list(
        AuditEvent.objects.filter(target_type="audit.case", target_id=str(case.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions.count(Action.CASE_OPENED) == 1 and actions.count(Action.CASE_CLOSED) == 1
    assert actions.count(Action.CASE_UPDATED) == 3  # note, assignment, closing note
    assert AuditEvent.objects.filter(action=Action.FLAG_RESOLVED).count() == 2
    told = Notification.objects.get(user=trader_owner, kind=Notification.Kind.CASE_CLOSED)
    assert told.params["outcome"] == "confirmed_misuse"
    # A closed case takes no more closing.
    response = client.post(url + "close/", {"outcome": "false_positive", "text": "again"})
    assert response.status_code == 400
    assert [error.code for error in response.context["form"].non_field_errors().as_data()] == ["case_closed"]


def test_a_flag_in_an_open_case_cannot_open_another(trader):
    investigator = officer_in("investigator")
    flag = make_flag(trader)
    services.case_open(flags=[flag], actor=investigator)
    with pytest.raises(ApplicationError) as refusal:
        services.case_open(flags=[flag], actor=investigator)
    assert refusal.value.code == "flag_in_open_case"
    assert Case.objects.count() == 1


@pytest.mark.parametrize("group", ["viewer", "registrar"])
def test_viewers_and_registrars_cannot_work_cases(console, trader, group):
    flag = make_flag(trader)
    client = console(group)
    response = client.post("/officers/audit/flag/", {"action": "open_case", "_selected_action": [flag.pk],
                                                      "confirm": "1"})  # fmt: skip
    assert not Case.objects.exists()
    # The list again, offering them no action: the post is read as a plain visit.
    assert response.status_code == 200 and response.context["action_form"] is None
    with pytest.raises(ApplicationError) as refusal:
        services.case_open(flags=[flag], actor=client.officer)
    assert refusal.value.code == "not_investigator"


def test_a_case_cannot_go_to_a_non_investigator(trader):
    investigator, viewer = officer_in("investigator"), officer_in("viewer")
    with pytest.raises(ApplicationError) as refusal:
        services.case_open(flags=[make_flag(trader)], actor=investigator, assignee=viewer)
    assert refusal.value.code == "not_investigator"
    assert not Case.objects.exists()


def test_bulk_closing_is_all_or_nothing(console, trader):
    client = console("investigator")
    one = services.case_open(flags=[make_flag(trader)], actor=client.officer)
    two = services.case_open(flags=[make_flag(trader, kind="other")], actor=client.officer)
    services.case_close(case=two, outcome="false_positive", note="nothing", actor=client.officer)
    response = client.post("/officers/audit/case/", {
        "action": "close_cases", "_selected_action": [one.pk, two.pk], "confirm": "1",
        "outcome": "referred", "text": "to the anti-smuggling unit",
    })  # fmt: skip
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == ["case_closed"]
    one.refresh_from_db()
    assert one.status == "open"


def test_flags_join_an_open_case_but_not_a_second_one(console, trader):
    client = console("investigator")
    case = services.case_open(flags=[make_flag(trader)], actor=client.officer)
    other = services.case_open(flags=[make_flag(trader, kind="other")], actor=client.officer)
    extra = make_flag(trader, kind="foreign_party_device")
    response = client.post("/officers/audit/flag/", {"action": "add_to_case", "_selected_action": [extra.pk],
                                                      "confirm": "1", "case": case.pk})  # fmt: skip
    assert response.status_code == 302
    assert extra in case.flags.all()
    response = client.post("/officers/audit/flag/", {"action": "add_to_case", "_selected_action": [extra.pk],
                                                      "confirm": "1", "case": other.pk})  # fmt: skip
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == ["flag_in_open_case"]
    assert extra not in other.flags.all()
