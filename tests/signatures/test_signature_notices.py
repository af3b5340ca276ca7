"""Telling the trader of every signature made in its name: at once (a sweep every few seconds) or in
a daily digest, as its owner chooses (issue "Declaration signing")."""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Notification, Organization, User
from accounts.services.organizations import organization_signature_notice_set
from audit.models import AuditEvent
from core.errors import ApplicationError
from signatures.models import SignatureRecord
from signatures.services.notices import DIGEST_NUMBERS_SHOWN, declarations_digest, declarations_notice
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def _signed_unnoticed(world, numbers, django_capture_on_commit_callbacks):
    # The after-commit nudge is not run: these wait for the sweep, as with a real worker.
    with django_capture_on_commit_callbacks(execute=False):
        records = [world.sign(world.broker_agent, world.broker_key, number=number) for number in numbers]
    assert all(record.outcome == "accepted" and record.noticed_at is None for record in records)
    return records


def _told(user, kind="declaration_signed"):
    return list(Notification.objects.filter(user=user, kind=kind).order_by("pk"))


def test_each_signature_is_told_once_to_the_owner(world, django_capture_on_commit_callbacks):
    _signed_unnoticed(world, ["7001", "7002"], django_capture_on_commit_callbacks)
    assert _told(world.trader_owner) == []
    assert declarations_notice() == 2
    told = _told(world.trader_owner)
    assert [n.params["number"] for n in told] == ["7001", "7002"]
    assert told[0].params["signer"] == world.broker.name
    assert told[0].params["agent"] == world.broker_agent.agent_profile.agent_number
    # A second sweep (or a redelivered task) tells nobody again; the signer's side is not told.
    assert declarations_notice() == 0
    assert len(_told(world.trader_owner)) == 2 and _told(world.broker_owner) == []
    assert not SignatureRecord.objects.filter(outcome="accepted", noticed_at__isnull=True).exists()


def test_a_refused_attempt_is_not_announced_as_a_signature(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = world.sign(world.broker_agent, world.trader_key)  # foreign use: refused
    assert record.outcome == "rejected"
    assert declarations_notice() == 0 and _told(world.trader_owner) == []


def test_without_a_beat_the_sweep_runs_at_commit(world, django_capture_on_commit_callbacks):
    # Tests run tasks eagerly, as the embedded default does: the signature is told at commit.
    with django_capture_on_commit_callbacks(execute=True):
        record = world.sign(world.broker_agent, world.broker_key, number="7003")
    record.refresh_from_db()
    assert record.noticed_at is not None
    assert [n.params["number"] for n in _told(world.trader_owner)] == ["7003"]


def test_a_daily_digest_lists_yesterdays_signatures_after_the_digest_hour(
    world,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.SIGNATURE_DIGEST_HOUR = 7
    organization_signature_notice_set(organization=world.trader, notice="daily", actor=world.trader_owner)
    with django_capture_on_commit_callbacks(execute=True):
        for number in ("8001", "8002", "8003"):
            world.sign(world.broker_agent, world.broker_key, number=number)
    # A digest trader is not told one by one.
    assert declarations_notice() == 0 and _told(world.trader_owner) == []
    today = timezone.localdate()
    tomorrow = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(), tzinfo=HANOI)
    # Not before the digest hour, and never the same day's signatures.
    assert declarations_digest(now=tomorrow + datetime.timedelta(hours=6, minutes=59)) == 0
    assert declarations_digest(now=tomorrow - datetime.timedelta(minutes=1)) == 0
    assert declarations_digest(now=tomorrow + datetime.timedelta(hours=7, minutes=5)) == 3
    (digest,) = _told(world.trader_owner, "declaration_digest")
    assert digest.params | {"username": None} == {
        "username": None,
        "count": 3,
        "date": today.isoformat(),
        "numbers": "8001, 8002, 8003",
    }
    assert declarations_digest(now=tomorrow + datetime.timedelta(hours=8)) == 0
    assert len(_told(world.trader_owner, "declaration_digest")) == 1


def test_the_digest_shortens_a_long_list(world, django_capture_on_commit_callbacks, settings):
    organization_signature_notice_set(organization=world.trader, notice="daily", actor=world.trader_owner)
    numbers = [f"81{index:02d}" for index in range(DIGEST_NUMBERS_SHOWN + 2)]
    _signed_unnoticed(world, numbers, django_capture_on_commit_callbacks)
    next_morning = timezone.localtime() + datetime.timedelta(days=1)
    assert declarations_digest(now=next_morning.replace(hour=9)) == len(numbers)
    (digest,) = _told(world.trader_owner, "declaration_digest")
    assert digest.params["count"] == len(numbers)
    assert digest.params["numbers"].endswith("…") and numbers[-1] not in digest.params["numbers"]


def test_only_the_owner_or_an_administrator_chooses_and_the_choice_is_audited(world):
    for actor in (world.trader_signer, world.broker_owner):
        with pytest.raises(ApplicationError) as refused:
            organization_signature_notice_set(organization=world.trader, notice="daily", actor=actor)
        assert refused.value.code == "not_allowed"
    with pytest.raises(ApplicationError) as refused:
        organization_signature_notice_set(organization=world.trader, notice="never", actor=world.trader_owner)
    assert refused.value.code == "invalid_input"
    assert Organization.objects.get(pk=world.trader.pk).signature_notice == "each"
    assert not AuditEvent.objects.filter(action="organization.settings_changed").exists()
    organization_signature_notice_set(organization=world.trader, notice="daily", actor=world.trader_owner)
    event = AuditEvent.objects.get(action="organization.settings_changed")
    assert event.data == {"signature_notice": "daily", "previous": "each"}
    assert event.organization_id == world.trader.pk


def test_the_owner_sets_it_in_the_portal_after_reauthenticating(world, client, settings):
    from tests.helpers import sign_in

    settings.REAUTH_SECONDS = 300
    sign_in(client, world.trader_owner.username)
    page = client.get(reverse("declaration_list")).content.decode()
    assert 'name="notice"' in page and reverse("signature_notice") in page
    response = client.post(reverse("signature_notice"), {"notice": "daily"})
    assert response.status_code == 302 and response.url == reverse("declaration_list")
    assert Organization.objects.get(pk=world.trader.pk).signature_notice == "daily"
    # Later, the proof of identity is stale: the choice waits for a fresh one.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=301)):
        response = client.post(reverse("signature_notice"), {"notice": "each"})
        assert response["Location"].startswith(reverse("reauthenticate"))
    assert Organization.objects.get(pk=world.trader.pk).signature_notice == "daily"


def test_a_signer_has_no_such_choice(world, client):
    from tests.helpers import sign_in

    sign_in(client, world.trader_signer.username)
    assert 'name="notice"' not in client.get(reverse("declaration_list")).content.decode()
    response = client.post(reverse("signature_notice"), {"notice": "daily"}, follow=True)
    with translation.override("vi"):
        assert (
            gettext("Only the enterprise's owner or an administrator can do this.")
            in response.content.decode()
        )
    assert Organization.objects.get(pk=world.trader.pk).signature_notice == "each"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_tell_each_signature_once(world, django_capture_on_commit_callbacks):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent sweeps: PostgreSQL only")
    _signed_unnoticed(world, [f"90{index:02d}" for index in range(30)], django_capture_on_commit_callbacks)
    # Outside a test transaction the commit ran the nudge; leave the thirty to the two sweeps.
    SignatureRecord.objects.update(noticed_at=None)
    Notification.objects.filter(kind="declaration_signed").delete()
    barrier = threading.Barrier(2)
    counts = []

    def sweep():
        try:
            barrier.wait()
            counts.append(declarations_notice())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    managers = User.objects.filter(organization=world.trader, role__in=User.MANAGER_ROLES).count()
    assert sum(counts) == 30
    assert Notification.objects.filter(kind="declaration_signed").count() == 30 * managers


def test_a_staff_signature_names_the_person_family_name_first(world, django_capture_on_commit_callbacks):
    User.objects.filter(pk=world.trader_signer.pk).update(first_name="Lan", last_name="Nguyễn Thị")
    with django_capture_on_commit_callbacks(execute=False):
        record = world.sign(world.trader_signer, world.trader_key, number="7101")
    assert record.outcome == "accepted"
    assert declarations_notice() == 1
    (notice,) = _told(world.trader_owner)
    assert notice.params["person"] == "Nguyễn Thị Lan" and "agent" not in notice.params
    page = _notifications_page(world)
    assert "Nguyễn Thị Lan" in page and "—)" not in page and "agent" not in page.split("7101", 1)[1][:200]
    assert f'<a href="{reverse("declaration_list")}">' in page


def _notifications_page(world) -> str:
    client = Client()
    assert sign_in(client, world.trader_owner.username).status_code == 302
    return client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
