"""Broker operations reports: filing (portal and API), the sweep that marks missing reports
and escalates three in a row, and who may read whose reports.

The cast's licence was issued on 2026-01-05, so its first period is 2026-Q1, due 2026-04-15."""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Notification, User
from audit.models import AuditEvent, Flag
from brokers import selectors
from brokers.models import OperationReport
from brokers.services.api_keys import api_key_create
from brokers.services.licences import licence_revoke, licence_suspend
from brokers.services.reports import operation_report_submit, operation_reports_sweep
from brokers.tasks import authorizations_sweep_task, operation_reports_sweep_task
from config.schedules import SCHEDULES
from core.errors import ApplicationError
from tests.factories import BrokerLicenceFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
API = "/api/v1/operation-reports/"
FIGURES = {"declarations_filed": 120, "clients_served": 14, "staff_joined": 1, "staff_left": 0}


def on(day: str, hour: int = 10):
    """Travel to ``day`` (Hanoi time), the clock standing still."""
    return time_machine.travel(
        datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=HANOI), tick=False
    )


def d(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


def file(actor, period_start: str, **overrides) -> OperationReport:
    return operation_report_submit(actor=actor, period_start=d(period_start), **(FIGURES | overrides))


def sweep_on(day: str) -> dict:
    with on(day):
        return operation_reports_sweep()


def refused(code: str, call, *args, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.detail
    return caught.value


def statuses(broker) -> dict[str, str]:
    return {r.period.label: r.status for r in OperationReport.objects.filter(broker=broker)}


def actions(name: str) -> int:
    return AuditEvent.objects.filter(action=name).count()


# --- filing ------------------------------------------------------------------------------------


def test_a_report_filed_by_its_due_date_is_submitted(broker_owner, broker):
    with on("2026-04-15", hour=23):
        report = file(broker_owner, "2026-01-01", notes="  Quý đầu tiên.  ")
    assert (report.status, report.period_end, report.due_on) == (
        "submitted",
        d("2026-03-31"),
        d("2026-04-15"),
    )
    assert (report.submitted_by, report.notes, report.declarations_filed) == (
        broker_owner,
        "Quý đầu tiên.",
        120,
    )
    event = AuditEvent.objects.get(action="report.submitted")
    assert (event.actor, event.organization, event.target_id) == (broker_owner, broker, str(report.pk))
    assert event.data["status"] == "submitted" and event.data["period"] == "2026-Q1"


def test_a_report_filed_after_its_due_date_is_accepted_as_late(broker_owner, broker):
    with on("2026-04-16"):
        report = file(broker_owner, "2026-01-01")
    assert report.status == "late"
    assert AuditEvent.objects.get(action="report.submitted").data["status"] == "late"


def test_a_late_report_fills_in_the_row_the_sweep_marked_missing(broker_owner, broker):
    sweep_on("2026-04-16")
    missing = OperationReport.objects.get(broker=broker)
    assert missing.status == "missing" and missing.declarations_filed is None
    with on("2026-04-20"):
        report = file(broker_owner, "2026-01-01")
    assert report.pk == missing.pk and report.status == "late" and report.missed_at == missing.missed_at
    assert OperationReport.objects.count() == 1


def test_a_suspended_broker_still_files(broker_owner, broker_licence, officer):
    licence_suspend(licence=broker_licence, actor=officer, reason="inspection")
    with on("2026-04-10"):
        assert file(broker_owner, "2026-01-01").status == "submitted"


@pytest.mark.parametrize("period_start", ["2026-04-01", "2026-07-01", "2030-01-01"])
def test_a_current_or_future_period_is_refused(broker_owner, period_start):
    with on("2026-04-10"):
        refused("period_not_ended", file, broker_owner, period_start)
    assert not OperationReport.objects.exists()
    assert actions("report.submitted") == 0


@pytest.mark.parametrize("period_start", ["2026-02-01", "2026-03-31", "2025-10-01"])
def test_a_day_that_does_not_start_a_period_of_the_licence_is_refused(broker_owner, period_start):
    with on("2026-04-10"):
        error = refused("invalid_period", file, broker_owner, period_start)
    assert error.fields == {"period_start": ["invalid"]}
    assert not OperationReport.objects.exists()


def test_a_second_report_for_the_same_period_is_refused(broker_owner, broker):
    with on("2026-04-10"):
        first = file(broker_owner, "2026-01-01")
        refused("report_exists", file, broker_owner, "2026-01-01", declarations_filed=999)
    first.refresh_from_db()
    assert first.declarations_filed == 120
    assert actions("report.submitted") == 1


def test_the_database_keeps_one_report_per_broker_and_period(broker):
    row = {"broker": broker, "period_start": d("2026-01-01"), "period_end": d("2026-03-31"),
           "due_on": d("2026-04-15"), "status": "missing"}  # fmt: skip
    OperationReport.objects.create(**row)
    with pytest.raises(IntegrityError), transaction.atomic():
        OperationReport.objects.create(**row)


@pytest.mark.parametrize(
    ("overrides", "code", "fields"),
    [
        ({"declarations_filed": -1}, "figure_negative", {"declarations_filed": ["negative"]}),
        ({"staff_left": -3, "clients_served": -1}, "figure_negative",
         {"clients_served": ["negative"], "staff_left": ["negative"]}),
        ({"clients_served": 10**12}, "figure_too_large", {"clients_served": ["too_large"]}),
        ({"notes": "x" * 4001}, "notes_too_long", {"notes": ["too_long"]}),
        ({"notes": "a\x00b"}, "invalid_input", {"notes": ["invalid"]}),
        ({"staff_joined": "3"}, "invalid_input", {"staff_joined": ["invalid"]}),
    ],
)  # fmt: skip
def test_bad_figures_are_refused_each_with_its_code_and_change_nothing(broker_owner, overrides, code, fields):
    with on("2026-04-10"):
        error = refused(code, file, broker_owner, "2026-01-01", **overrides)
    assert error.fields == fields
    assert not OperationReport.objects.exists()
    assert actions("report.submitted") == 0


def test_notes_of_exactly_4000_characters_are_kept(broker_owner):
    with on("2026-04-10"):
        assert len(file(broker_owner, "2026-01-01", notes="x" * 4000).notes) == 4000


def test_only_a_brokers_owner_or_administrator_files(broker_agent, trader_owner, officer, broker):
    administrator = UserFactory(organization=broker, role=User.Role.ADMINISTRATOR)
    with on("2026-04-10"):
        for person in (broker_agent, trader_owner, officer):
            assert refused("not_allowed", file, person, "2026-01-01").status_code == 403
        assert file(administrator, "2026-01-01").submitted_by == administrator


def test_a_broker_whose_licence_is_revoked_no_longer_files(broker_owner, broker_licence, officer):
    licence_revoke(licence=broker_licence, actor=officer, reason="fraud")
    with on("2026-04-10"):
        refused("broker_licence_inactive", file, broker_owner, "2026-01-01")


# --- the sweep ---------------------------------------------------------------------------------


def test_the_sweep_marks_a_report_missing_the_day_after_its_due_date_once(broker_owner, broker):
    assert sweep_on("2026-04-15") == {"missing": 0, "revocations_proposed": 0}
    assert not OperationReport.objects.exists()
    assert sweep_on("2026-04-16")["missing"] == 1
    assert sweep_on("2026-04-16")["missing"] == 0
    assert sweep_on("2026-04-17")["missing"] == 0
    report = OperationReport.objects.get()
    assert (report.broker, report.status, report.due_on) == (broker, "missing", d("2026-04-15"))
    event = AuditEvent.objects.get(action="report.missed")
    assert (event.actor, event.organization, event.data["period"]) == (None, broker, "2026-Q1")
    notice = Notification.objects.get(kind=Notification.Kind.REPORT_DUE)
    assert notice.user == broker_owner
    assert (notice.params["period"], notice.params["date"]) == ("2026-Q1", "2026-04-15")


def test_the_sweep_leaves_filed_reports_and_revoked_licences_alone(broker_owner, broker, officer):
    with on("2026-04-10"):
        file(broker_owner, "2026-01-01")
    sweep_on("2026-04-16")
    assert statuses(broker) == {"2026-Q1": "submitted"}
    other = BrokerLicenceFactory(issued_on=d("2026-01-05"))
    licence_revoke(licence=other, actor=officer, reason="closed")
    sweep_on("2026-07-16")
    assert not OperationReport.objects.filter(broker=other.organization).exists()


def test_a_first_sweep_catches_up_every_period_oldest_first(broker, settings):
    settings.BROKER_REPORT_PERIOD = "month"
    assert sweep_on("2026-05-20")["missing"] == 4  # January to April; April was due on 15 May
    events = AuditEvent.objects.filter(action="report.missed").order_by("pk")
    assert [event.data["period"] for event in events] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert Flag.objects.get(kind="missed_reports").evidence["periods"] == ["2026-01", "2026-02", "2026-03"]


def test_three_missing_reports_in_a_row_raise_one_flag_proposing_suspension(broker, broker_licence):
    for day in ("2026-04-16", "2026-07-16", "2026-10-16", "2026-10-17"):
        sweep_on(day)
    assert statuses(broker) == {"2026-Q1": "missing", "2026-Q2": "missing", "2026-Q3": "missing"}
    flag = Flag.objects.get(kind="missed_reports")
    assert (flag.organization, flag.severity, flag.count) == (broker, "high", 1)
    assert flag.evidence["periods"] == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert flag.evidence["suspended_automatically"] is False
    assert "proposed" in flag.explanation
    broker_licence.refresh_from_db()
    assert broker_licence.status == "active"


def test_a_sweep_catching_up_three_periods_at_once_raises_one_flag(broker):
    sweep_on("2026-10-16")
    sweep_on("2026-10-20")
    assert Flag.objects.filter(kind="missed_reports").count() == 1
    assert actions("report.missed") == 3


def test_with_auto_suspend_the_third_missing_report_suspends_the_licence(settings, broker, broker_licence):
    settings.BROKER_AUTO_SUSPEND = True
    for day in ("2026-04-16", "2026-07-16", "2026-10-16"):
        sweep_on(day)
    broker_licence.refresh_from_db()
    assert broker_licence.status == "suspended"
    assert "missing or late" in broker_licence.status_reason
    event = AuditEvent.objects.get(action="licence.suspended")
    assert event.actor is None and event.organization == broker
    assert Flag.objects.get(kind="missed_reports").evidence["suspended_automatically"] is True


def test_each_further_three_in_a_row_escalate_again(settings, broker, broker_licence):
    settings.BROKER_REPORT_PERIOD = "month"
    settings.BROKER_AUTO_SUSPEND = True
    sweep_on("2026-04-16")  # January to March
    sweep_on("2026-05-16")  # April: four in a row, nothing new
    assert Flag.objects.filter(kind="missed_reports").count() == 1
    sweep_on("2026-07-16")  # May and June: six in a row
    flags = Flag.objects.filter(kind="missed_reports").order_by("pk")
    assert [flag.evidence["suspended_automatically"] for flag in flags] == [True, False]
    assert "already suspended" in flags[1].explanation
    assert actions("licence.suspended") == 1


def test_late_reports_count_like_missing_ones(broker_owner, broker):
    sweep_on("2026-04-16")  # Q1 missing
    with on("2026-07-20"):
        file(broker_owner, "2026-04-01")  # Q2 late, before any sweep
    assert not Flag.objects.exists()
    with on("2026-10-30"):
        file(broker_owner, "2026-07-01")  # Q3 late: the third in a row
    assert statuses(broker) == {"2026-Q1": "missing", "2026-Q2": "late", "2026-Q3": "late"}
    assert Flag.objects.get(kind="missed_reports").evidence["periods"] == ["2026-Q1", "2026-Q2", "2026-Q3"]


def test_a_late_report_first_records_the_earlier_periods_missing(broker_owner, broker):
    with on("2026-10-30"):
        file(broker_owner, "2026-07-01")
    assert statuses(broker) == {"2026-Q1": "missing", "2026-Q2": "missing", "2026-Q3": "late"}
    assert Flag.objects.filter(kind="missed_reports").count() == 1


def test_two_missing_then_one_on_time_raise_no_flag(broker_owner, broker):
    sweep_on("2026-04-16")
    sweep_on("2026-07-16")
    with on("2026-10-05"):
        file(broker_owner, "2026-07-01")
    sweep_on("2026-10-16")
    sweep_on("2027-01-16")  # Q4 missing: a new streak of one
    assert statuses(broker) == {
        "2026-Q1": "missing", "2026-Q2": "missing", "2026-Q3": "submitted", "2026-Q4": "missing",
    }  # fmt: skip
    assert not Flag.objects.filter(kind="missed_reports").exists()


def test_six_months_suspended_without_a_report_proposes_revocation_once(broker, broker_licence, officer):
    with on("2026-03-01"):
        licence_suspend(licence=broker_licence, actor=officer, reason="inspection")
    assert sweep_on("2026-08-31")["revocations_proposed"] == 0
    assert sweep_on("2026-09-01")["revocations_proposed"] == 1
    assert sweep_on("2026-09-02")["revocations_proposed"] == 0
    assert sweep_on("2026-12-01")["revocations_proposed"] == 0
    flag = Flag.objects.get(kind="licence_revocation_proposed")
    assert (flag.organization, flag.severity) == (broker, "high")


def test_a_report_filed_while_suspended_prevents_the_revocation_proposal(
    broker_owner, broker_licence, officer
):
    with on("2026-03-01"):
        licence_suspend(licence=broker_licence, actor=officer, reason="inspection")
    with on("2026-04-10"):
        file(broker_owner, "2026-01-01")
    sweep_on("2026-09-01")
    assert not Flag.objects.filter(kind="licence_revocation_proposed").exists()


def test_the_tasks_run_their_services_and_are_scheduled(broker):
    with on("2026-04-16"):
        assert operation_reports_sweep_task.delay().get(timeout=1) == {
            "missing": 1,
            "revocations_proposed": 0,
        }
        assert authorizations_sweep_task.delay().get(timeout=1) == {
            "reminded": 0, "invitations_expired": 0, "mandates_expired": 0,
        }  # fmt: skip
    tasks = {schedule.task for schedule in SCHEDULES.values()}
    assert {"brokers.tasks.operation_reports_sweep", "brokers.tasks.authorizations_sweep"} <= tasks


def _race(*calls) -> list:
    """Run the calls at the same moment in threads of their own; their results or error codes."""
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(call())
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reports_for_one_period_leave_one(broker_owner, broker):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    with on("2026-04-20"):
        outcomes = _race(
            lambda: file(broker_owner, "2026-01-01").status, lambda: file(broker_owner, "2026-01-01").status
        )
    assert sorted(outcomes) == ["late", "report_exists"]
    assert OperationReport.objects.filter(broker=broker).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_late_report_racing_the_sweep_leaves_one_late_row(broker_owner, broker):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    with on("2026-04-20"):
        outcomes = _race(lambda: file(broker_owner, "2026-01-01").status, operation_reports_sweep)
    assert "late" in outcomes
    assert statuses(broker) == {"2026-Q1": "late"}


# --- who reads what ----------------------------------------------------------------------------


@pytest.fixture
def other_broker_owner(db):
    licence = BrokerLicenceFactory(issued_on=d("2026-01-05"))
    return UserFactory(organization=licence.organization, role=User.Role.OWNER, username="other.broker")


def test_officers_read_every_report_a_broker_only_its_own(broker_owner, other_broker_owner, officer,
                                                          broker_agent, trader_owner, outsider):  # fmt: skip
    with on("2026-04-10"):
        mine = file(broker_owner, "2026-01-01")
        theirs = file(other_broker_owner, "2026-01-01")
    assert set(selectors.operation_report_list(viewer=officer)) == {mine, theirs}
    assert list(selectors.operation_report_list(viewer=broker_owner)) == [mine]
    assert list(selectors.operation_report_list(viewer=broker_agent)) == [mine]
    assert list(selectors.operation_report_list(viewer=other_broker_owner)) == [theirs]
    for stranger in (trader_owner, outsider):
        assert not selectors.operation_reports_readable_by(stranger)
        assert not selectors.operation_report_list(viewer=stranger).exists()


# --- the portal --------------------------------------------------------------------------------


def test_a_broker_owner_files_through_the_portal(client, broker_owner, broker):
    with on("2026-04-10"):
        assert sign_in(client, "broker.owner").status_code == 302
        page = client.get(reverse("operation_report_list")).content.decode()
        assert "2026-Q1" in page and "2026-04-15" in page
        form = client.get(reverse("operation_report_submit") + "?period=2026-01-01")
        assert form.status_code == 200 and 'value="2026-01-01" selected' in form.content.decode()
        response = client.post(
            reverse("operation_report_submit"), {"period_start": "2026-01-01", **FIGURES, "notes": "OK"}
        )
        assert response.status_code == 302 and response.url == reverse("operation_report_list")
        report = OperationReport.objects.get(broker=broker)
        assert (report.status, report.submitted_by, report.notes) == ("submitted", broker_owner, "OK")
        listing = client.get(reverse("operation_report_list")).content.decode()
        assert "120" in listing and reverse("operation_report_submit") not in listing


def test_a_refused_portal_report_shows_its_code_and_keeps_nothing(client, broker_owner):
    with on("2026-04-10"):
        sign_in(client, "broker.owner")
        response = client.post(
            reverse("operation_report_submit"),
            {"period_start": "2026-01-01", **FIGURES, "clients_served": -2},
        )
    assert response.status_code == 400
    assert "figure_negative" in response.content.decode()
    assert not OperationReport.objects.exists()


def test_the_portal_pages_refuse_traders_and_agents_cannot_file(client, trader_owner, broker_agent):
    with on("2026-04-10"):
        sign_in(client, "trader.owner")
        assert client.get(reverse("operation_report_list")).status_code == 403
        assert client.get(reverse("operation_report_submit")).status_code == 403
        client.logout()
        sign_in(client, "broker.agent")
        assert client.get(reverse("operation_report_list")).status_code == 200
        assert client.get(reverse("operation_report_submit")).status_code == 403


# --- the API -----------------------------------------------------------------------------------


def _key(holder, scopes) -> dict:
    _key_row, secret = api_key_create(actor=holder, holder=holder, name="ci", scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}


def test_the_api_with_a_session(client, broker_owner):
    with on("2026-04-10"):
        sign_in(client, "broker.owner")
        assert client.get(API).json()["results"] == []
        body = {"period_start": "2026-01-01", **FIGURES, "notes": "Quý 1"}
        created = client.post(API, body, content_type="application/json")
        assert created.status_code == 201, created.json()
        assert created.json()["status"] == "submitted" and created.json()["period"] == "2026-Q1"
        again = client.post(API, body, content_type="application/json")
        assert (again.status_code, again.json()["code"]) == (400, "report_exists")
        listed = client.get(API).json()["results"]
        assert [row["id"] for row in listed] == [created.json()["id"]]


def test_the_api_with_a_key(client, broker_owner):
    headers = _key(broker_owner, ["read", "manage"])
    with on("2026-07-20"):
        body = {"period_start": "2026-04-01", "declarations_filed": 7, "clients_served": 2}
        created = client.post(API, body, content_type="application/json", **headers)
        assert created.status_code == 201, created.json()
        assert (created.json()["status"], created.json()["staff_joined"]) == ("late", 0)
        results = client.get(API, **headers).json()["results"]
    assert {row["period"]: row["status"] for row in results} == {"2026-Q1": "missing", "2026-Q2": "late"}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"declarations_filed": -5}, "figure_negative", "declarations_filed"),
        ({"notes": "x" * 4001}, "notes_too_long", "notes"),
        ({"period_start": "2026-07-01"}, "period_not_ended", "period_start"),
        ({"period_start": "2026-01-15"}, "invalid_period", "period_start"),
        ({"period_start": "not a date"}, "invalid", "period_start"),
        ({"clients_served": None}, "null", "clients_served"),
    ],
)
def test_the_api_refuses_bad_input_with_its_code(client, broker_owner, body, code, field):
    headers = _key(broker_owner, ["read", "manage"])
    with on("2026-04-10"):
        response = client.post(
            API, {"period_start": "2026-01-01", **FIGURES} | body, content_type="application/json", **headers
        )
    assert response.status_code == 400
    assert response.json()["code"] == code and field in response.json()["fields"]
    assert not OperationReport.objects.exists()


def test_a_read_only_key_cannot_file(client, broker_owner):
    headers = _key(broker_owner, ["read"])
    with on("2026-04-10"):
        assert client.get(API, **headers).status_code == 200
        response = client.post(
            API, {"period_start": "2026-01-01", **FIGURES}, content_type="application/json", **headers
        )
    assert (response.status_code, response.json()["code"]) == (403, "scope_missing")
    assert not OperationReport.objects.exists()


def test_an_agents_key_reads_but_cannot_file(client, broker_agent):
    headers = _key(broker_agent, ["read", "manage"])
    with on("2026-04-10"):
        assert client.get(API, **headers).status_code == 200
        response = client.post(
            API, {"period_start": "2026-01-01", **FIGURES}, content_type="application/json", **headers
        )
    assert (response.status_code, response.json()["code"]) == (403, "not_allowed")


@pytest.mark.parametrize("who", ["trader_owner", "outsider"])
def test_traders_get_nothing_from_the_api(client, request, broker_owner, who):
    stranger = request.getfixturevalue(who)
    with on("2026-04-10"):
        file(broker_owner, "2026-01-01")
        for headers in ({}, _key(stranger, ["read", "manage"])):
            if not headers:
                sign_in(client, stranger.username)
            listed = client.get(API, **headers)
            assert (listed.status_code, listed.json()["code"]) == (403, "not_allowed")
            posted = client.post(
                API, {"period_start": "2026-01-01", **FIGURES}, content_type="application/json", **headers
            )
            assert (posted.status_code, posted.json()["code"]) == (403, "not_allowed")
    assert OperationReport.objects.count() == 1


def test_another_broker_sees_only_its_own_reports(client, broker_owner, other_broker_owner):
    with on("2026-04-10"):
        file(broker_owner, "2026-01-01")
        results = client.get(API, **_key(other_broker_owner, ["read"])).json()["results"]
    assert results == []


def test_the_list_costs_the_same_queries_for_one_report_or_many(client, broker_owner, settings):
    settings.BROKER_REPORT_PERIOD = "month"
    headers = _key(broker_owner, ["read"])
    with on("2026-02-10"):
        file(broker_owner, "2026-01-01")
        client.get(API, **headers)  # the key's first use of the day records a sign-in
        with CaptureQueriesContext(connection) as one:
            assert len(client.get(API, **headers).json()["results"]) == 1
    sweep_on("2026-07-20")
    with on("2026-07-20"):
        client.get(API, **headers)
        with CaptureQueriesContext(connection) as many:
            assert len(client.get(API, **headers).json()["results"]) == 6
    assert len(many.captured_queries) == len(one.captured_queries)


def test_a_page_is_at_most_the_page_size_and_links_the_next(client, broker_owner, settings):
    settings.BROKER_REPORT_PERIOD = "month"
    sweep_on("2026-11-20")
    with on("2026-11-20"):
        first = client.get(API, {"page_size": 4}, **_key(broker_owner, ["read"])).json()
    assert len(first["results"]) == 4 and first["next"]
