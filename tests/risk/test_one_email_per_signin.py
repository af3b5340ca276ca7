"""One sign-in, one email: the new-device notice's email waits for the sign-in's evaluation, whose
own notice (a "was this you?" question, the protection taken) replaces it before anything is
mailed."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Notification
from accounts.services.mail import notification_email, notification_email_wait
from accounts.services.notifications import notification_send
from accounts.tasks import notify_by_email_task
from risk.services.evaluation import signin_evaluate
from tests.helpers import sign_in
from tests.risk.conftest import BROKER_DEVICE, record
from tests.risk.test_worker import on_device

pytestmark = pytest.mark.django_db


def signed_in_on(device_id: str, username: str, callbacks, **headers) -> None:
    with callbacks(execute=True):
        assert sign_in(on_device(Client(), device_id), username, **headers).status_code == 302


def test_a_new_device_sign_in_the_risk_engine_flags_sends_one_email(
    trader_signer, broker_agent, django_capture_on_commit_callbacks
):
    record(broker_agent, ago=datetime.timedelta(days=1), device_id=BROKER_DEVICE, ip="198.51.100.20")
    record(trader_signer, ago=datetime.timedelta(days=3))
    signed_in_on(
        BROKER_DEVICE, "trader.signer", django_capture_on_commit_callbacks, REMOTE_ADDR="198.51.100.21"
    )
    notice = Notification.objects.get(user=trader_signer)
    assert notice.kind == "signin_review" and notice.params["device"]  # the new device folded in
    assert [message.to for message in mail.outbox] == [[trader_signer.email]]


def test_a_plain_new_device_sign_in_sends_one_email(trader_signer, django_capture_on_commit_callbacks):
    record(trader_signer, ago=datetime.timedelta(days=3))
    signed_in_on(
        "another-device", "trader.signer", django_capture_on_commit_callbacks, REMOTE_ADDR="203.0.113.7"
    )
    assert Notification.objects.get(user=trader_signer).kind == "new_device"
    assert [message.to for message in mail.outbox] == [[trader_signer.email]]


@pytest.fixture
def queued_again(monkeypatch):
    """The messages the email task puts back on the queue (the broker is the boundary here)."""
    messages = []
    monkeypatch.setattr(
        notify_by_email_task, "apply_async", lambda args, countdown: messages.append((args, countdown))
    )
    return messages


def test_with_workers_the_new_device_email_waits_for_the_evaluation_and_goes_once(
    trader_signer, broker_agent, django_capture_on_commit_callbacks, queued_again
):
    record(broker_agent, ago=datetime.timedelta(days=1), device_id=BROKER_DEVICE, ip="198.51.100.20")
    record(trader_signer, ago=datetime.timedelta(days=3))
    with django_capture_on_commit_callbacks():  # not run here: the workers have the messages
        sign_in(on_device(Client(), BROKER_DEVICE), "trader.signer", REMOTE_ADDR="198.51.100.21")
    notice = Notification.objects.get(user=trader_signer)
    # The notifications worker comes first: the sign-in is not evaluated yet, so the email waits.
    assert notify_by_email_task.run(notice.pk) is False
    assert queued_again == [((notice.pk,), 1.0)] and mail.outbox == []
    # The risk worker evaluates it: its question replaces the notice and queues its own email.
    signin_evaluate(event_id=notice.params["signin"])
    # The waiting message and the question's message each deliver it: one email, the question.
    assert notify_by_email_task.run(notice.pk) is True
    assert notify_by_email_task.run(notice.pk) is False
    (message,) = mail.outbox
    assert "/accounts/sign-in-review/" in message.body


def test_an_evaluation_too_late_does_not_hold_the_new_device_email_back(
    settings, trader_signer, django_capture_on_commit_callbacks, queued_again
):
    settings.NOTIFICATION_SIGNIN_WAIT_SECONDS = 0
    record(trader_signer, ago=datetime.timedelta(days=3))
    with django_capture_on_commit_callbacks():
        sign_in(on_device(Client(), "another-device"), "trader.signer", REMOTE_ADDR="203.0.113.7")
    notice = Notification.objects.get(user=trader_signer)
    assert notification_email_wait(notification_id=notice.pk) == 0
    assert notify_by_email_task.run(notice.pk) is True
    assert queued_again == [] and len(mail.outbox) == 1


def test_a_failed_send_gives_the_claim_back(trader_signer, monkeypatch):
    notice = notification_send(user=trader_signer, kind="password_changed", email=False)

    def refuse(**_kwargs):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr("accounts.services.mail.send_mail", refuse)
    with pytest.raises(ConnectionRefusedError):
        notification_email(notification_id=notice.pk)
    notice.refresh_from_db()
    assert notice.emailed_at is None  # the retry will send it
