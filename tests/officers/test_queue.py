"""Flags and cases as a work queue: oldest high-severity first, filters by status, severity, age
and assignee, "assign to me" for investigators only, and kinds and severities shown by name."""

from __future__ import annotations

import ast
import datetime
import pathlib

import pytest
from django.utils import timezone, translation

from audit.flag_kinds import FLAG_KINDS
from audit.models import Action, AuditEvent, Case, Flag
from core.errors import ApplicationError
from officers.labels import REFUSALS
from officers.services.cases import case_open, flags_assign
from tests.officers.helpers import officer_in

pytestmark = pytest.mark.django_db

FLAGS = "/officers/audit/flag/"
CASES = "/officers/audit/case/"


def make_flag(organization, *, severity="high", days_ago=0, kind="certificate_foreign_use", status="open"):
    at = timezone.now() - datetime.timedelta(days=days_ago)
    return Flag.objects.create(
        kind=kind, severity=severity, status=status, organization=organization, explanation="seen",
        first_seen_at=at, last_seen_at=at, outcome="false_positive" if status == "resolved" else "",
    )  # fmt: skip


def listed(client, url, **params) -> list[int]:
    response = client.get(url, params)
    assert response.status_code == 200
    return [obj.pk for obj in response.context["cl"].result_list]


def test_the_flag_queue_shows_unresolved_flags_most_severe_and_oldest_first(console, trader):
    new_high = make_flag(trader, days_ago=0)
    old_high = make_flag(trader, days_ago=9)
    old_low = make_flag(trader, severity="low", days_ago=30)
    medium = make_flag(trader, severity="medium", days_ago=2)
    resolved_high = make_flag(trader, days_ago=40, status="resolved")
    expected = [old_high.pk, new_high.pk, medium.pk, old_low.pk, resolved_high.pk]
    assert listed(console("viewer"), FLAGS) == expected


def test_the_case_queue_ranks_open_cases_by_their_most_severe_flag_then_age(console, trader, outsider):
    investigator = officer_in("investigator")
    low_old = case_open(flags=[make_flag(trader, severity="low")], actor=investigator)
    high_new = case_open(
        flags=[make_flag(outsider.organization, severity="low"), make_flag(outsider.organization)],
        actor=investigator,
    )
    high_old = case_open(flags=[make_flag(trader, kind="abuse_report")], actor=investigator)
    Case.objects.filter(pk=low_old.pk).update(opened_at=timezone.now() - datetime.timedelta(days=20))
    Case.objects.filter(pk=high_old.pk).update(opened_at=timezone.now() - datetime.timedelta(days=10))
    closed = case_open(flags=[make_flag(trader, kind="off_hours")], actor=investigator)
    Case.objects.filter(pk=closed.pk).update(
        status="closed", outcome="referred", closed_at=timezone.now(),
        opened_at=timezone.now() - datetime.timedelta(days=60),
    )  # fmt: skip
    client = console("viewer")
    assert listed(client, CASES) == [high_old.pk, high_new.pk, low_old.pk, closed.pk]
    assert listed(client, CASES, severity="high") == [high_old.pk, high_new.pk, closed.pk]
    assert listed(client, CASES, severity="low") == [low_old.pk]
    assert listed(client, CASES, age="stale") == [high_old.pk, low_old.pk, closed.pk]
    assert listed(client, CASES, age="old") == [closed.pk]
    assert listed(client, CASES, age="day") == [high_new.pk]
    assert listed(client, CASES, status__exact="closed") == [closed.pk]


def test_the_queues_filter_by_whose_they_are(console, trader):
    client = console("investigator")
    colleague = officer_in("investigator")
    mine, theirs, nobodys = make_flag(trader), make_flag(trader, days_ago=1), make_flag(trader, days_ago=2)
    flags_assign(flags=[mine], assignee=client.officer, actor=client.officer)
    flags_assign(flags=[theirs], assignee=colleague, actor=colleague)
    assert listed(client, FLAGS, assignee="me") == [mine.pk]
    assert listed(client, FLAGS, assignee="nobody") == [nobodys.pk]
    assert listed(client, FLAGS, assignee=str(colleague.pk)) == [theirs.pk]
    my_case = case_open(
        flags=[make_flag(trader, kind="off_hours")], actor=client.officer, assignee=client.officer
    )
    other_case = case_open(flags=[make_flag(trader, kind="new_device")], actor=colleague)
    assert listed(client, CASES, assignee="me") == [my_case.pk]
    assert listed(client, CASES, assignee="nobody") == [other_case.pk]


def test_an_investigator_takes_flags_from_the_queue(console, trader):
    first, second = make_flag(trader), make_flag(trader, severity="low")
    client = console("investigator")
    response = client.post(FLAGS, {"action": "assign_to_me", "_selected_action": [first.pk, second.pk]})
    assert response.status_code == 302
    for flag in (first, second):
        flag.refresh_from_db()
        assert flag.assignee == client.officer
    events = AuditEvent.objects.filter(action=Action.FLAG_ASSIGNED).order_by("target_id")
    assert [(event.target_id, event.actor, event.data["assignee"]) for event in events] == [
        (str(first.pk), client.officer, client.officer.pk),
        (str(second.pk), client.officer, client.officer.pk),
    ]
    # Taking it again changes nothing and records nothing.
    client.post(FLAGS, {"action": "assign_to_me", "_selected_action": [first.pk]})
    assert AuditEvent.objects.filter(action=Action.FLAG_ASSIGNED).count() == 2


def test_an_investigator_takes_one_flag_and_one_case_from_their_pages(console, trader):
    flag = make_flag(trader)
    client = console("investigator")
    response = client.get(f"{FLAGS}{flag.pk}/change/")
    take = f"{FLAGS}{flag.pk}/do/take/"
    assert take in response.content.decode()
    assert client.post(take, {}).status_code == 302
    flag.refresh_from_db()
    assert flag.assignee == client.officer
    case = case_open(flags=[make_flag(trader, kind="off_hours")], actor=client.officer)
    assert client.post(f"{CASES}{case.pk}/do/take/", {}).status_code == 302
    case.refresh_from_db()
    assert case.assignee == client.officer
    updates = AuditEvent.objects.filter(action=Action.CASE_UPDATED, target_id=str(case.pk))
    assert [(event.actor, event.data["change"]) for event in updates] == [(client.officer, "assigned")]


def test_an_investigator_takes_cases_in_bulk(console, trader):
    client = console("investigator")
    cases = [case_open(flags=[make_flag(trader, kind=kind)], actor=client.officer) for kind in ("a", "b")]
    response = client.post(CASES, {"action": "assign_to_me", "_selected_action": [case.pk for case in cases]})
    assert response.status_code == 302
    assert set(Case.objects.values_list("assignee", flat=True)) == {client.officer.pk}


def test_an_officer_who_may_not_investigate_cannot_take_work(console, trader):
    flag = make_flag(trader)
    case = case_open(flags=[make_flag(trader, kind="off_hours")], actor=officer_in("investigator"))
    client = console("viewer")
    response = client.get(FLAGS)
    assert "assign_to_me" not in response.content.decode()
    client.post(FLAGS, {"action": "assign_to_me", "_selected_action": [flag.pk]})
    assert client.post(f"{FLAGS}{flag.pk}/do/take/", {}).status_code == 403
    assert client.post(f"{CASES}{case.pk}/do/take/", {}).status_code == 403
    client.post(CASES, {"action": "assign_to_me", "_selected_action": [case.pk]})
    flag.refresh_from_db()
    case.refresh_from_db()
    assert (flag.assignee, case.assignee) == (None, None)
    assert not AuditEvent.objects.filter(action=Action.FLAG_ASSIGNED).exists()


def test_flags_go_only_to_investigators_and_only_while_unresolved(trader, trader_owner):
    investigator, viewer = officer_in("investigator"), officer_in("viewer")
    flag, done = make_flag(trader), make_flag(trader, status="resolved")
    for actor, assignee in ((viewer, viewer), (investigator, viewer), (trader_owner, investigator)):
        with pytest.raises(ApplicationError) as refused:
            flags_assign(flags=[flag], assignee=assignee, actor=actor)
        assert refused.value.code == "not_investigator"
    with pytest.raises(ApplicationError) as refused:
        flags_assign(flags=[flag, done], assignee=investigator, actor=investigator)
    assert refused.value.code == "flag_resolved"
    with pytest.raises(ApplicationError) as refused:
        flags_assign(flags=[], assignee=investigator, actor=investigator)
    assert refused.value.code == "no_flags"
    flag.refresh_from_db()
    assert flag.assignee is None  # nothing changed, not even for the unresolved flag


def test_the_queue_names_kinds_and_severities_instead_of_codes(console, trader):
    make_flag(trader, kind="foreign_party_device", severity="medium")
    page = console("viewer").get(FLAGS).content.decode()
    assert "Device or network used by another enterprise" in page
    assert ">foreign_party_device<" not in page and ">medium<" not in page
    assert "?kind=foreign_party_device" in page  # the kind filter: the code in the link, the name shown


def _called(node) -> str:
    return getattr(node.func, "id", "") or getattr(node.func, "attr", "")


def test_every_flag_kind_the_source_raises_has_a_name():
    """A kind added without words in ``officers.labels`` would show its code to officers."""
    root = pathlib.Path(__file__).resolve().parents[2]
    raised = set()
    for path in root.glob("*/services/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _called(node) == "flag_raise":
                raised.update(
                    keyword.value.value
                    for keyword in node.keywords
                    if keyword.arg == "kind" and isinstance(keyword.value, ast.Constant)
                )
    for node in ast.walk(ast.parse((root / "risk" / "detectors.py").read_text())):
        if isinstance(node, ast.keyword) and node.arg == "detector" and isinstance(node.value, ast.Constant):
            raised.add(node.value.value)
    assert len(raised) > 10
    assert raised <= set(FLAG_KINDS), raised - set(FLAG_KINDS)


def test_every_refusal_code_the_signing_rules_raise_has_words():
    """A refusal code without words in ``officers.labels.REFUSALS`` would reach officers as a code."""
    root = pathlib.Path(__file__).resolve().parents[2]
    raised = set()
    for path in (root / "signatures").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            refusal = isinstance(node, ast.Call) and _called(node) == "SigningRefused" and node.args
            if refusal and isinstance(node.args[0], ast.Constant):
                raised.add(node.args[0].value)
    assert len(raised) > 10
    assert raised <= set(REFUSALS), raised - set(REFUSALS)


def test_a_case_opened_without_a_title_is_named_by_its_flags_kinds_in_words(trader):
    flags = [make_flag(trader, kind="off_hours"), make_flag(trader, kind="certificate_foreign_use")]
    with translation.override("en"):
        case = case_open(flags=flags, actor=officer_in("investigator"))
    assert case.title == "Certificate used outside its enterprise, Sign-in outside working hours"
