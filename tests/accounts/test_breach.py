"""A worker checks new passwords against the breach corpus from their SHA-1 only."""

from __future__ import annotations

import hashlib
import logging

import pytest
from celery import signals
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import translation

from accounts.breach_corpus import is_breached
from accounts.models import Notification
from accounts.services.breaches import password_breach_check
from accounts.services.passwords import password_set
from audit.models import AuditEvent
from tests.conftest import ROOT

SORTED = ROOT / "tests" / "data" / "breached-sorted.txt"
RANGES = ROOT / "tests" / "data" / "breached-range"
BREACHED = "breached harbour lantern 4471 kite"
CLEAN = "quiet orchard ferry 9153 dawn"


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest().upper()


@pytest.mark.parametrize("corpus", [SORTED, RANGES])
@pytest.mark.parametrize(
    ("password", "expected"),
    [(BREACHED, True), ("password", True), ("correct horse battery staple", True), (CLEAN, False)],
)
def test_the_corpus_is_searched_in_both_layouts(corpus, password, expected):
    assert is_breached(sha1(password), corpus) is expected
    assert is_breached(sha1(password).lower(), corpus) is expected


def test_every_line_of_the_sorted_file_is_found_and_neighbours_are_not():
    keys = [line.split(":")[0] for line in SORTED.read_text().splitlines()]
    for key in keys:
        assert is_breached(key, SORTED)
        neighbour = f"{int(key, 16) + 1:040X}"
        assert is_breached(neighbour, SORTED) is (neighbour in keys)
    assert not is_breached("0" * 40, SORTED) and not is_breached("F" * 40, SORTED)


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a hex SHA-1"):
        is_breached("xyz", SORTED)
    with pytest.raises(FileNotFoundError):
        is_breached(sha1(CLEAN), tmp_path / "missing")


@pytest.fixture
def corpus(settings):
    settings.BREACHED_PASSWORDS_PATH = str(RANGES)


@pytest.mark.django_db(transaction=True)
def test_a_breached_password_forces_a_change_and_tells_the_user(corpus, trader_owner):
    with transaction.atomic():
        password_set(user=trader_owner, password=BREACHED, actor=trader_owner)
    trader_owner.refresh_from_db()
    assert trader_owner.must_change_password is True
    assert AuditEvent.objects.filter(action="password.breached", target_id=str(trader_owner.pk)).count() == 1
    with translation.override(settings.LANGUAGE_CODE):
        subjects = {
            str(Notification.Kind.PASSWORD_CHANGED.label),
            str(Notification.Kind.PASSWORD_BREACHED.label),
        }
    assert {message.subject for message in mail.outbox} == subjects
    assert all(message.to == [trader_owner.email] for message in mail.outbox)
    assert all(BREACHED not in message.body for message in mail.outbox)
    assert Notification.objects.filter(user=trader_owner, kind="password_breached").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_clean_password_changes_nothing(corpus, trader_owner):
    with transaction.atomic():
        password_set(user=trader_owner, password=CLEAN, actor=trader_owner)
    trader_owner.refresh_from_db()
    assert trader_owner.must_change_password is False
    assert not AuditEvent.objects.filter(action="password.breached").exists()


@pytest.mark.django_db
def test_a_late_result_for_an_older_password_is_ignored(corpus, trader_owner):
    password_set(user=trader_owner, password=CLEAN, actor=trader_owner)
    trader_owner.refresh_from_db()
    assert not password_breach_check(user_id=trader_owner.pk, sha1=sha1(BREACHED), changed_at="2020-01-01")
    assert password_breach_check(
        user_id=trader_owner.pk, sha1=sha1(BREACHED), changed_at=trader_owner.password_changed_at.isoformat()
    )
    # Redelivered: nothing happens twice.
    assert not password_breach_check(
        user_id=trader_owner.pk, sha1=sha1(BREACHED), changed_at=trader_owner.password_changed_at.isoformat()
    )
    assert AuditEvent.objects.filter(action="password.breached").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_plaintext_goes_into_no_task_message_log_record_or_database_row(corpus, trader_owner, caplog):
    sent = []

    def capture(sender=None, args=None, kwargs=None, **_):
        sent.append(repr((sender.name, args, kwargs)))

    signals.task_prerun.connect(capture)
    caplog.set_level(logging.DEBUG)
    try:
        with transaction.atomic():
            password_set(user=trader_owner, password=BREACHED, actor=trader_owner)
    finally:
        signals.task_prerun.disconnect(capture)
    assert any("evaluate_password_breach" in message and sha1(BREACHED) in message for message in sent)
    assert all(BREACHED not in message for message in sent)
    assert BREACHED not in caplog.text
    for model in apps.get_models():
        for row in model.objects.values_list():
            assert BREACHED not in repr(row), model
