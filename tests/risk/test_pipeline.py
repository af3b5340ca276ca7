"""From a recorded sign-in to its evaluation: the task, its claim, the sweep, a broker outage."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import SignInEvent
from accounts.services.signins import signin_record
from audit.models import AuditEvent, Flag
from risk import findings as engine
from risk.selectors import risk_histories_get
from risk.services.evaluation import signin_evaluate, signin_evaluate_pending
from risk.tasks import evaluate_sign_in_task
from tests.factories import TEST_PASSWORD
from tests.helpers import sign_in
from tests.risk.conftest import BROKER_DEVICE, record

pytestmark = pytest.mark.django_db


def test_a_portal_sign_in_is_evaluated_after_its_commit(
    client, trader_signer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_in(client, "trader.signer").status_code == 302
    event = SignInEvent.objects.get(outcome="succeeded")
    assert event.evaluated_at is not None
    assert (event.risk_score, event.risk_reasons) == (0, [])  # the first sign-in ever: nothing to say


def test_the_task_carries_the_event_id_only(client, trader_signer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        sign_in(client, "trader.signer")
    queued = [c for c in callbacks if getattr(c, "args", ())[:1] == (evaluate_sign_in_task,)]
    events = list(SignInEvent.objects.values_list("pk", flat=True))
    assert [c.args[1:] for c in queued] == [(pk,) for pk in events] and all(not c.keywords for c in queued)
    assert TEST_PASSWORD not in repr([getattr(c, "args", ()) for c in callbacks])


def test_a_wrong_second_factor_code_is_evaluated_too(
    client, trader_owner, django_capture_on_commit_callbacks
):
    client.post("/accounts/login/", {"username": "trader.owner", "password": TEST_PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/login/verify/", {"code": "000000"})
    event = SignInEvent.objects.get(factor="second_factor")
    assert event.evaluated_at is not None


def test_an_event_is_evaluated_once(risky_signin):
    first = signin_evaluate(event_id=risky_signin.pk)
    assert first is not None and first.risk_score > 0
    assert signin_evaluate(event_id=risky_signin.pk) is None
    assert signin_evaluate(event_id=10**9) is None
    assert Flag.objects.get(kind="foreign_party_device").count == 1
    assert AuditEvent.objects.filter(action="flag.raised").count() == len(first.risk_reasons)


def test_the_score_and_reasons_are_kept_on_the_event(risky_signin):
    signin_evaluate(event_id=risky_signin.pk)
    risky_signin.refresh_from_db()
    detectors = {reason["detector"] for reason in risky_signin.risk_reasons}
    assert {"new_device", "foreign_party_device", "new_network"} <= detectors
    assert 70 < risky_signin.risk_score <= 100 and risky_signin.risk_severity == "high"
    reason = next(r for r in risky_signin.risk_reasons if r["detector"] == "foreign_party_device")
    assert (
        reason["severity"] == "high"
        and Flag.objects.filter(pk=reason["flag"], kind="foreign_party_device").exists()
    )
    assert "another enterprise" in reason["message"]


def test_the_broker_being_down_does_not_stop_a_sign_in_and_the_sweep_catches_up(
    client, trader_signer, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(evaluate_sign_in_task, "apply_async", broker_down)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = sign_in(client, "trader.signer")
    assert response.status_code == 302 and client.get("/accounts/me/").status_code == 200
    event = SignInEvent.objects.get(outcome="succeeded")
    assert event.evaluated_at is None
    assert "could not enqueue risk.tasks.evaluate_sign_in" in caplog.text
    assert TEST_PASSWORD not in caplog.text
    soon = event.occurred_at + datetime.timedelta(seconds=30)
    assert signin_evaluate_pending(now=soon) == 0
    later = event.occurred_at + datetime.timedelta(seconds=61)
    assert signin_evaluate_pending(now=later) == 1
    event.refresh_from_db()
    assert event.evaluated_at is not None
    assert signin_evaluate_pending(now=later) == 0


def test_the_sweep_is_a_declared_schedule_on_the_risk_queue():
    from config.schedules import SCHEDULES

    sweep = SCHEDULES["risk-evaluate-sweep"]
    assert (sweep.task, sweep.queue, sweep.every) == (
        "risk.tasks.evaluate_sign_ins_pending",
        "risk",
        datetime.timedelta(seconds=60),
    )


def test_the_history_is_a_few_indexed_queries(risky_signin, django_assert_max_num_queries):
    event = SignInEvent.objects.select_related("user", "organization").get(pk=risky_signin.pk)
    with django_assert_max_num_queries(2):
        history = risk_histories_get(events=[event])[event.pk]
    [use] = history.others
    assert (use.kind, use.by_device, use.by_network) == ("broker", True, True)
    assert history.has_prior_success and history.last_success_at is not None


def test_the_history_counts_another_enterprises_sign_ins_on_the_network_not_its_device_elsewhere(
    broker_agent, trader_signer
):
    """What tells a broker's office (used day after day) from a carrier's shared address."""
    for days in (1, 2, 3):
        record(broker_agent, ago=datetime.timedelta(days=days), device_id=BROKER_DEVICE, ip="198.51.100.20")
    record(broker_agent, ago=datetime.timedelta(days=4), device_id=BROKER_DEVICE, ip="192.0.2.9")
    record(broker_agent, ago=datetime.timedelta(days=5), device_id="agent-phone", ip="198.51.100.30")
    record(trader_signer, ago=datetime.timedelta(days=6))
    event = record(trader_signer, evaluated=False, device_id=BROKER_DEVICE, ip="198.51.100.21")
    event = SignInEvent.objects.select_related("user", "organization").get(pk=event.pk)
    [use] = risk_histories_get(events=[event])[event.pk].others
    assert (use.kind, use.by_device, use.by_network, use.network_signins) == ("broker", True, True, 4)


def test_history_is_what_was_recorded_before_not_what_is_stamped_earlier(trader_signer):
    # A later-recorded sign-in stamped earlier (another server's clock) is not "before".
    event = record(trader_signer, evaluated=False, device_id="new-device")
    record(trader_signer, ago=datetime.timedelta(minutes=5), device_id="new-device")
    event = SignInEvent.objects.select_related("user", "organization").get(pk=event.pk)
    assert risk_histories_get(events=[event])[event.pk].places == ()


def test_spoofed_forwarded_for_headers_from_an_untrusted_peer_are_one_source(client, settings, trader_signer):
    settings.TRUSTED_PROXIES = []
    settings.TRUSTED_PROXY_COUNT = 0
    settings.RISK_SPRAY_ACCOUNTS = 3
    for number in range(3):
        client.post(
            "/accounts/login/",
            {"username": f"guess{number}", "password": "Winter2026!"},
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"10.0.{number}.1",
        )
    events = list(SignInEvent.objects.order_by("id"))
    assert {e.network for e in events} == {"192.0.2.0/24"}
    for e in events:
        signin_evaluate(event_id=e.pk)
    flag = Flag.objects.get(kind="password_spray")
    assert (flag.user, flag.organization, flag.evidence["network"]) == (None, None, "192.0.2.0/24")


def test_ipv6_sign_ins_in_one_slash_48_are_one_network_end_to_end(trader_signer):
    record(trader_signer, ago=datetime.timedelta(days=2), ip="2001:db8:abcd:1::10")
    event = record(trader_signer, evaluated=False, ip="2001:db8:abcd:ffff::99")
    signin_evaluate(event_id=event.pk)
    event.refresh_from_db()
    assert event.network == "2001:db8:abcd::/48"
    assert "new_network" not in {r["detector"] for r in event.risk_reasons}


def test_a_trader_on_a_device_a_broker_used_yesterday_is_flagged(risky_signin, trader, trader_signer):
    signin_evaluate(event_id=risky_signin.pk)
    flag = Flag.objects.get(kind="foreign_party_device")
    assert (flag.severity, flag.user, flag.organization) == ("high", trader_signer, trader)
    assert flag.evidence["device"] == BROKER_DEVICE and flag.evidence["signin"] == str(risky_signin.pk)


def test_an_outsider_device_older_than_the_window_is_forgotten(settings, trader_signer, broker_agent):
    settings.RISK_LOOKBACK_DAYS = 7
    record(broker_agent, ago=datetime.timedelta(days=8), device_id=BROKER_DEVICE, ip="198.51.100.20")
    record(trader_signer, ago=datetime.timedelta(days=3))
    event = record(trader_signer, evaluated=False, device_id=BROKER_DEVICE)
    signin_evaluate(event_id=event.pk)
    assert not Flag.objects.filter(kind="foreign_party_device").exists()


def test_brute_force_then_success_end_to_end(settings, trader_signer):
    settings.RISK_BRUTE_FORCE_FAILURES = 5
    record(trader_signer, ago=datetime.timedelta(days=1))
    for _attempt in range(5):
        record(trader_signer, outcome="failed", ago=datetime.timedelta(minutes=2))
    event = record(trader_signer, evaluated=False)
    signin_evaluate(event_id=event.pk)
    event.refresh_from_db()
    [reason] = [r for r in event.risk_reasons if r["detector"] == "brute_force"]
    assert reason["severity"] == "high"


def test_evaluating_an_officer_sign_in_works(officer):
    record(officer, ago=datetime.timedelta(days=1))
    event = record(officer, evaluated=False, device_id="elsewhere", ip="198.51.100.5")
    assert signin_evaluate(event_id=event.pk).risk_score > 0
    assert timezone.now() >= event.occurred_at


def test_the_sweep_goes_through_every_batch_and_skips_an_event_it_cannot_evaluate(
    trader_signer, monkeypatch, caplog
):
    events = [record(trader_signer, evaluated=False, ago=datetime.timedelta(minutes=5)) for _n in range(5)]
    original = engine.evaluate

    def broken_for_the_second(event, history):
        if event.pk == events[1].pk:
            raise RuntimeError("a row the detectors choke on")
        return original(event, history)

    # The batch fails, is rolled back and evaluated one by one: only the second stays unevaluated.
    monkeypatch.setattr(engine, "evaluate", broken_for_the_second)
    with caplog.at_level(logging.ERROR):
        assert signin_evaluate_pending(batch=2) == 4
    assert f"could not evaluate sign-in {events[1].pk}" in caplog.text
    assert list(SignInEvent.objects.filter(evaluated_at__isnull=True).values_list("pk", flat=True)) == [
        events[1].pk
    ]


def test_an_api_keys_first_use_is_evaluated_and_carries_no_key(
    broker_owner, django_capture_on_commit_callbacks
):
    from django.test import Client
    from django.urls import reverse

    from brokers.services.api_keys import api_key_create

    _key, secret = api_key_create(actor=broker_owner, holder=broker_owner, name="ecus", scopes=["read"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", REMOTE_ADDR="198.51.100.4").get(
            reverse("api_me")
        )
    assert response.status_code == 200
    event = SignInEvent.objects.get(user=broker_owner, channel="api")
    assert event.evaluated_at is not None
    assert secret not in repr([getattr(c, "args", ()) for c in callbacks])


def test_an_officer_sign_in_on_the_officers_channel_is_evaluated(officer, django_capture_on_commit_callbacks):
    from core.context import RequestContext, bound_context

    with (
        bound_context(RequestContext(channel="officers", ip="198.51.100.9")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        event = signin_record(user=officer, username=officer.username, succeeded=True, device_id="d" * 32)
    event.refresh_from_db()
    assert (event.channel, event.evaluated_at is not None) == ("officers", True)
