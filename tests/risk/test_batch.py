"""Evaluating sign-ins in batches (the sweep's path): the same findings, flags, responses and
questions as one at a time, in a few statements, and two batches never take the same sign-in."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import KnownPlace, Notification, SignInEvent, SignInReview, User
from audit.models import AuditEvent, Flag
from risk import findings as engine
from risk.selectors import risk_histories_get
from risk.services.evaluation import (
    signin_evaluate,
    signin_evaluate_batch,
    signins_claim,
    signins_evaluate_claimed,
)
from tests.risk.conftest import BROKER_DEVICE, record

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(days=1)


@pytest.fixture
def mixed_signins(trader_signer, trader_owner, broker_agent, officer):
    """A history, then pending sign-ins of every kind the detectors see (and clean ones)."""
    record(broker_agent, ago=datetime.timedelta(days=1), device_id=BROKER_DEVICE, ip="198.51.100.20")
    record(trader_signer, ago=datetime.timedelta(days=3))
    record(trader_owner, ago=datetime.timedelta(days=2), device_id="owner-pc", ip="203.0.113.9")
    record(officer, ago=datetime.timedelta(days=1), device_id="officer-pc", ip="192.0.2.77")
    for number in range(4):
        record(trader_owner, ago=datetime.timedelta(minutes=10), outcome="failed", evaluated=False)
        record(None, username=f"guess{number}", outcome="failed", ip="192.0.2.10", evaluated=False)
    pending = [
        record(trader_signer, evaluated=False),  # clean: its own device and network
        record(trader_signer, evaluated=False, device_id=BROKER_DEVICE, ip="198.51.100.21"),
        record(trader_owner, evaluated=False, device_id="owner-pc", ip="203.0.113.9"),
        record(trader_owner, evaluated=False, device_id="new-laptop", ip="198.18.0.5"),
        record(officer, evaluated=False, device_id="officer-pc", ip="192.0.2.77"),
        record(officer, evaluated=False, device_id="elsewhere", ip="198.51.100.5"),
        record(trader_signer, evaluated=False, outcome="failed", factor="second_factor"),
    ]
    return list(SignInEvent.objects.filter(evaluated_at__isnull=True).order_by("id")), pending


def _alone(event):
    """The sign-in's history read on its own (a batch of one)."""
    return risk_histories_get(events=[event])[event.pk]


def _expected(events):
    """What one-at-a-time evaluation finds (each sign-in's history read on its own)."""
    found = {}
    for event in SignInEvent.objects.select_related("user", "organization").filter(
        pk__in=[e.pk for e in events]
    ):
        found[event.pk] = engine.evaluate(event, _alone(event))
    return found


def _sorted(history):
    return (
        sorted(history.places, key=repr),
        sorted(history.others, key=repr),
        history.last_success_at,
        history.known_devices,
        history.known_networks,
        history.password_failures,
        history.second_factor_failures,
        history.spray_names,
        history.account_created_at,
    )


def test_a_batchs_histories_are_each_sign_ins_own(settings, mixed_signins):
    settings.RISK_SPRAY_ACCOUNTS = 3
    events, _pending = mixed_signins
    events = list(
        SignInEvent.objects.select_related("user", "organization").filter(pk__in=[e.pk for e in events])
    )
    batch = risk_histories_get(events=events)
    for event in events:
        assert _sorted(batch[event.pk]) == _sorted(_alone(event)), event.pk


def test_a_batch_reads_the_places_each_user_confirmed(mixed_signins, trader_owner, officer):
    """Only for sign-ins whose device or network is otherwise new, and only the user's own."""
    events, _pending = mixed_signins
    KnownPlace.objects.create(user=trader_owner, kind="device", value="new-laptop")
    KnownPlace.objects.create(user=trader_owner, kind="network", value="198.18.0.0/24")
    KnownPlace.objects.create(user=officer, kind="device", value="elsewhere")
    events = list(
        SignInEvent.objects.select_related("user", "organization").filter(pk__in=[e.pk for e in events])
    )
    batch = risk_histories_get(events=events)
    laptop = next(e for e in events if e.device_id == "new-laptop")
    elsewhere = next(e for e in events if e.device_id == "elsewhere")
    assert batch[laptop.pk].known_devices == {"new-laptop"}
    assert batch[laptop.pk].known_networks == {"198.18.0.0/24"}
    assert batch[elsewhere.pk].known_devices == {"elsewhere"}
    assert not batch[elsewhere.pk].known_networks
    for event in events:
        assert _sorted(batch[event.pk]) == _sorted(_alone(event)), event.pk


def test_a_batch_finds_and_keeps_what_one_at_a_time_finds(settings, mixed_signins):
    settings.RISK_SPRAY_ACCOUNTS = 3
    settings.RISK_SECOND_FACTOR_FAILURES = 1
    events, _pending = mixed_signins
    expected = _expected(events)
    assert sum(1 for findings in expected.values() if findings) >= 5  # the scenario finds things
    result = signin_evaluate_batch(older_than=timezone.now() + LATER, limit=100)
    assert (result.claimed, result.evaluated, result.last_id) == (len(events), len(events), events[-1].pk)
    for event in SignInEvent.objects.filter(pk__in=expected):
        kept = [{k: v for k, v in reason.items() if k != "flag"} for reason in event.risk_reasons]
        assert kept == [finding.as_reason() for finding in expected[event.pk]], event.pk
        assert event.risk_score == engine.combined_score(expected[event.pk])
        assert event.evaluated_at is not None
        for reason in event.risk_reasons:
            assert Flag.objects.filter(pk=reason["flag"], kind=reason["detector"]).exists()
    assert signin_evaluate_batch(older_than=timezone.now() + LATER, limit=100).claimed == 0


def test_a_batch_raises_responds_and_asks_as_one_at_a_time_would(trader_signer, trader_owner, broker_agent):
    record(broker_agent, ago=datetime.timedelta(days=1), device_id=BROKER_DEVICE, ip="198.51.100.20")
    record(trader_signer, ago=datetime.timedelta(days=3))
    first = record(trader_signer, evaluated=False, device_id=BROKER_DEVICE, ip="198.51.100.21")
    second = record(trader_signer, evaluated=False, device_id=BROKER_DEVICE, ip="198.51.100.21")
    signin_evaluate_batch(older_than=timezone.now() + LATER, limit=10)
    first.refresh_from_db()
    second.refresh_from_db()
    flag = Flag.objects.get(kind="foreign_party_device")
    # The second sighting counts on the flag the first opened, as one at a time.
    assert (flag.count, flag.severity, flag.user, flag.evidence["signin"]) == (
        2,
        "high",
        trader_signer,
        str(second.pk),
    )
    assert AuditEvent.objects.filter(action="flag.raised", target_id=str(flag.pk)).count() == 1
    assert {r["flag"] for r in first.risk_reasons if r["detector"] == "foreign_party_device"} == {flag.pk}
    # Responses on both sign-ins; people told and asked only for the one that opened the flags.
    responses = AuditEvent.objects.filter(action="risk.response")
    assert sorted(e.data["signin"] for e in responses) == sorted([str(first.pk)] * 2 + [str(second.pk)] * 2)
    assert set(SignInReview.objects.values_list("event_id", "recipient_id")) == {
        (first.pk, trader_signer.pk),
        (first.pk, trader_owner.pk),
    }
    kinds = sorted(Notification.objects.values_list("user_id", "kind"))
    # The protection taken on the first sign-in is told in its "was this you?" notice: one notice
    # per sign-in for the user.
    assert kinds == sorted(
        [
            (trader_signer.pk, Notification.Kind.SIGNIN_REVIEW),
            (trader_owner.pk, Notification.Kind.SIGNIN_REVIEW),
        ]
    )
    assert Notification.objects.get(user=trader_signer).params["responses"]
    trader_signer.refresh_from_db()
    assert trader_signer.step_up_required_at is not None


def test_a_failing_batch_is_evaluated_one_by_one(trader_signer, monkeypatch, caplog):
    events = [record(trader_signer, evaluated=False, ago=datetime.timedelta(minutes=5)) for _n in range(3)]
    original = engine.evaluate

    def broken_for_the_first(event, history):
        if event.pk == events[0].pk:
            raise RuntimeError("a row the detectors choke on")
        return original(event, history)

    monkeypatch.setattr(engine, "evaluate", broken_for_the_first)
    result = signin_evaluate_batch(older_than=timezone.now(), limit=10)
    assert (result.claimed, result.evaluated) == (3, 2)
    assert "evaluating them one by one" in caplog.text
    assert list(SignInEvent.objects.filter(evaluated_at__isnull=True).values_list("pk", flat=True)) == [
        events[0].pk
    ]


def test_a_batch_writes_each_sign_in_once_and_loads_nothing_again(settings, mixed_signins):
    from django.test.utils import CaptureQueriesContext

    settings.RISK_SPRAY_ACCOUNTS = 3
    events, _pending = mixed_signins
    with CaptureQueriesContext(connection) as captured:
        signin_evaluate_batch(older_than=timezone.now() + LATER, limit=100)
    statements = [query["sql"] for query in captured.captured_queries]
    sign_ins = [sql for sql in statements if "accounts_signinevent" in sql.split("WHERE")[0]]
    # The claim only locks and loads; one UPDATE writes every result, clean or not.
    updates = [sql for sql in sign_ins if sql.lstrip().upper().startswith(("UPDATE", "WITH V"))]
    assert len(updates) == 1
    assert SignInEvent.objects.filter(pk__in=[e.pk for e in events], evaluated_at__isnull=True).count() == 0
    # The sign-ins came whole, with their users and organisations, in the claim: the one statement
    # that loads them.
    loads = [
        sql for sql in statements if 'FROM "accounts_signinevent" LEFT OUTER JOIN "accounts_user"' in sql
    ]
    assert len(loads) == 1


def test_a_clean_sign_in_is_one_claim_one_history_read_and_one_write(
    trader_signer, django_assert_num_queries
):
    record(trader_signer, ago=datetime.timedelta(days=1))
    event = record(trader_signer, evaluated=False)
    # In the test's transaction: a savepoint, the claim (which locks and loads it), the history,
    # its result, the release.
    with django_assert_num_queries(5):
        evaluated = signin_evaluate(event_id=event.pk)
    assert (evaluated.risk_score, evaluated.risk_reasons) == (0, [])
    event.refresh_from_db()
    assert (event.risk_score, event.risk_reasons, event.evaluated_at is not None) == (0, [], True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED: PostgreSQL only")
def test_two_batches_racing_take_disjoint_sign_ins_and_do_not_wait(trader_signer):
    record(trader_signer, ago=datetime.timedelta(days=3))
    pending = [record(trader_signer, evaluated=False, ago=datetime.timedelta(minutes=5)) for _n in range(6)]
    older_than = timezone.now()
    holding = threading.Event()
    release = threading.Event()
    first: dict = {}

    def slow_batch():
        try:
            with transaction.atomic():
                events = signins_claim(claimable=Q(occurred_at__lt=older_than), limit=3)
                first["ids"] = [event.pk for event in events]
                holding.set()
                release.wait(10)
                signins_evaluate_claimed(events=events)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_batch)
    thread.start()
    assert holding.wait(10)
    try:
        # The first batch holds its three sign-ins; the second takes the other three at once.
        second = signin_evaluate_batch(older_than=older_than, limit=10)
        assert second.claimed == 3 and second.evaluated == 3
        taken = set(SignInEvent.objects.filter(evaluated_at__isnull=False).values_list("pk", flat=True))
        assert taken & {event.pk for event in pending} == {event.pk for event in pending} - set(first["ids"])
        # Nothing is left that the first batch does not hold.
        assert signin_evaluate_batch(older_than=older_than, limit=10).claimed == 0
    finally:
        release.set()
        thread.join(10)
    evaluated = set(SignInEvent.objects.filter(evaluated_at__isnull=False).values_list("pk", flat=True))
    assert len(first["ids"]) == 3 and {event.pk for event in pending} <= evaluated
    assert signin_evaluate(event_id=pending[0].pk) is None


def test_the_task_takes_the_backlog_along_and_the_messages_of_what_it_took_do_nothing(
    settings, trader_signer
):
    from risk.tasks import evaluate_sign_in_task

    settings.RISK_BATCH_SIZE = 3
    events = [record(trader_signer, evaluated=False, ago=datetime.timedelta(seconds=n)) for n in (5, 4, 3, 2)]
    # Its own sign-in (the newest) and the two oldest waiting.
    assert evaluate_sign_in_task(events[3].pk) == 3
    waiting = SignInEvent.objects.filter(evaluated_at__isnull=True).values_list("pk", flat=True)
    assert list(waiting) == [events[2].pk]
    assert evaluate_sign_in_task(events[0].pk) == 1  # its own is done; it takes the last one waiting
    assert evaluate_sign_in_task(events[2].pk) == 0
    assert not SignInEvent.objects.filter(evaluated_at__isnull=True).exists()


def test_a_claimed_sign_in_comes_with_its_account_and_organisation(trader_signer, django_assert_num_queries):
    event = record(trader_signer, evaluated=False)
    account = User.objects.get(pk=trader_signer.pk)
    with transaction.atomic():
        with django_assert_num_queries(1):
            [claimed] = signins_claim(claimable=Q(pk=event.pk), limit=1)
        with django_assert_num_queries(0):
            assert claimed.user.date_joined == account.date_joined
            assert [
                getattr(claimed.user, name) for name in ("pk", "username", "email", "role", "password")
            ] == [getattr(account, name) for name in ("pk", "username", "email", "role", "password")]
            assert claimed.organization.tax_code == trader_signer.organization.tax_code
