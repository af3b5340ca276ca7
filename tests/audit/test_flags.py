"""Flags: one open flag per kind and subject within the window; severity only rises."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from audit.canonical import AuditDataError
from audit.models import AuditEvent, Flag
from audit.services.flags import Sighting, flag_raise, flags_raise

pytestmark = pytest.mark.django_db


def test_a_repeat_within_the_window_counts_on_the_open_flag(trader_signer, trader, settings):
    first, created = flag_raise(kind="new_device", severity="low", explanation="a", user=trader_signer,
                                organization=trader, evidence={"device": "d1"})  # fmt: skip
    assert created
    again, created_again = flag_raise(
        kind="new_device", severity="high", explanation="b", user=trader_signer, organization=trader,
        evidence={"device": "d2"},
    )  # fmt: skip
    assert not created_again and again.pk == first.pk
    again.refresh_from_db()
    assert (again.count, again.severity, again.evidence) == (2, "high", {"device": "d2"})
    lower, _created = flag_raise(kind="new_device", severity="low", explanation="c", user=trader_signer,
                                 organization=trader)  # fmt: skip
    lower.refresh_from_db()
    assert lower.severity == "high"
    assert AuditEvent.objects.filter(action="flag.raised").count() == 1


def test_another_subject_kind_or_an_old_flag_opens_a_new_one(trader_signer, trader, outsider, settings):
    flag_raise(kind="new_device", severity="low", explanation="a", user=trader_signer, organization=trader)
    flag_raise(kind="new_network", severity="low", explanation="a", user=trader_signer, organization=trader)
    flag_raise(
        kind="new_device", severity="low", explanation="a", user=outsider, organization=outsider.organization
    )
    later = timezone.now() + datetime.timedelta(hours=settings.FLAG_WINDOW_HOURS + 1)
    with time_machine.travel(later):
        flag_raise(
            kind="new_device", severity="low", explanation="a", user=trader_signer, organization=trader
        )
    assert Flag.objects.count() == 4


def test_resolved_flags_are_not_reopened(trader):
    flag, _ = flag_raise(kind="certificate_shared", severity="high", explanation="x", organization=trader)
    Flag.objects.filter(pk=flag.pk).update(status="resolved")
    _again, created = flag_raise(
        kind="certificate_shared", severity="high", explanation="x", organization=trader
    )
    assert created


def test_evidence_cannot_carry_secrets(trader):
    with pytest.raises(AuditDataError):
        flag_raise(kind="x", severity="low", explanation="x", organization=trader, evidence={"password": "p"})
    assert not Flag.objects.exists()


def test_flags_raise_counts_as_flag_raise_one_at_a_time(trader_signer, trader_owner):
    def seen(severity, user=trader_signer, kind="new_device"):
        return Sighting(
            kind=kind,
            severity=severity,
            explanation=f"seen {severity}",
            user=user,
            organization=user.organization if user else None,
            evidence={"n": severity},
        )

    raised = flags_raise(sightings=[seen("low"), seen("high"), seen("medium"), seen("low", trader_owner)])
    assert [created for _flag, created in raised] == [True, False, False, True]
    signer_flag = raised[0][0]
    signer_flag.refresh_from_db()
    assert (signer_flag.count, signer_flag.severity, signer_flag.evidence) == (3, "high", {"n": "medium"})
    events = AuditEvent.objects.filter(action="flag.raised").order_by("id")
    assert [(e.data["severity"], e.data["user"]) for e in events] == [
        ("low", str(trader_signer.pk)),
        ("low", str(trader_owner.pk)),
    ]
    again = flags_raise(sightings=[seen("low"), seen("low", None, kind="password_spray")])
    assert [(flag.pk == signer_flag.pk, created) for flag, created in again] == [(True, False), (False, True)]
    signer_flag.refresh_from_db()
    assert signer_flag.count == 4 and again[1][0].user is None
