"""Custodians (rule 1), suspension, reinstatement, revocation, expiry and its reminders, and misuse
reports."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Notification, UserSession
from audit.models import AuditEvent, Case, Flag
from core.errors import ApplicationError
from signatures.models import AbuseReport, Certificate
from signatures.services.binding import certificate_prove, certificate_upload, custodians_set
from signatures.services.lifecycle import (
    certificate_reinstate,
    certificate_revoke,
    certificate_suspend,
    certificates_expire,
    certificates_remind_expiry,
)
from signatures.services.misuse import abuse_report
from signatures.signals import abuse_reported
from tests.factories import UserFactory
from tests.helpers import sign_in
from tests.signatures.helpers import trust
from tests.signatures.pki_factory import openssl_dgst_sign

pytestmark = pytest.mark.django_db

SIGNER = {"signer_name": "Nguyễn Thị Lan", "signer_id_number": "001203004567"}


def refused_code(call) -> str:
    with pytest.raises(ApplicationError) as refusal:
        call()
    return refusal.value.code


@pytest.fixture
def bound(pki, trader, trader_owner):
    trust(pki.intermediate)
    holder = pki.signer(tax_code=trader.tax_code, slot=30)
    certificate = certificate_upload(actor=trader_owner, data=holder.cert_pem, **SIGNER)
    proof = openssl_dgst_sign(certificate.challenge.encode(), holder)
    return certificate_prove(certificate=certificate, proof=proof, actor=trader_owner)


def test_custodians_are_signers_of_the_enterprise_named_by_a_manager(
    bound, trader, trader_owner, trader_signer
):
    custodians_set(certificate=bound, users=[trader_signer], actor=trader_owner)
    assert list(bound.custodians.all()) == [trader_signer]
    event = AuditEvent.objects.get(action="certificate.custodians_changed")
    assert event.data == {"added": [str(trader_signer.pk)], "removed": []}
    assert Notification.objects.filter(user=trader_owner, kind="custodians_changed").exists()
    custodians_set(certificate=bound, users=[], actor=trader_owner)
    assert not bound.custodians.exists()


def test_who_may_not_be_a_custodian_or_name_one(bound, trader, trader_owner, trader_signer, outsider):
    viewer = UserFactory(organization=trader, role="viewer")
    foreign_signer = UserFactory(organization=outsider.organization, role="signer")
    for candidate in (trader_owner, viewer, foreign_signer):
        assert (
            refused_code(
                lambda candidate=candidate: custodians_set(
                    certificate=bound, users=[candidate], actor=trader_owner
                )
            )
            == "custodian_invalid"
        )
    for actor in (trader_signer, outsider):
        assert (
            refused_code(
                lambda actor=actor: custodians_set(certificate=bound, users=[trader_signer], actor=actor)
            )
            == "not_allowed"
        )
    assert not bound.custodians.exists()


def test_an_owner_suspension_is_lifted_by_the_owner_an_officer_suspension_only_by_an_officer(
    bound, trader_owner, officer
):
    certificate_suspend(certificate=bound, actor=trader_owner, reason="token mislaid")
    bound.refresh_from_db()
    assert (bound.status, bound.suspended_by) == ("suspended", "owner")
    certificate_reinstate(certificate=bound, actor=trader_owner)
    certificate_suspend(certificate=bound, actor=officer, reason="under investigation")
    assert refused_code(lambda: certificate_reinstate(certificate=bound, actor=trader_owner)) == "not_allowed"
    certificate_reinstate(certificate=bound, actor=officer)
    bound.refresh_from_db()
    assert bound.status == "active"
    actions = list(
        AuditEvent.objects.filter(target_id=str(bound.pk), action__startswith="certificate.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions[-4:] == [
        "certificate.suspended", "certificate.reinstated", "certificate.suspended", "certificate.reinstated",
    ]  # fmt: skip


def test_revocation_is_final(bound, trader_owner, officer, outsider):
    assert refused_code(lambda: certificate_revoke(certificate=bound, actor=outsider, reason="x")) == (
        "not_allowed"
    )
    certificate_revoke(certificate=bound, actor=trader_owner, reason="key lost")
    assert refused_code(lambda: certificate_reinstate(certificate=bound, actor=officer)) == "invalid_status"
    assert refused_code(lambda: certificate_suspend(certificate=bound, actor=officer, reason="x")) == (
        "invalid_status"
    )


def test_expiry_and_its_reminders(bound, trader_owner, trader_signer):
    custodians_set(certificate=bound, users=[trader_signer], actor=trader_owner)
    end = bound.not_after
    for days_before, expected_step in ((40, None), (29, 30), (20, None), (6, 7), (0.5, 1)):
        now = end - datetime.timedelta(days=days_before)
        sent = certificates_remind_expiry(now=now)
        bound.refresh_from_db()
        assert bound.expiry_reminded_days == (expected_step or bound.expiry_reminded_days)
        assert sent == (1 if expected_step else 0)
    reminders = Notification.objects.filter(kind="certificate_expiring")
    assert sorted(reminders.values_list("user__username", flat=True)) == sorted(
        ["trader.owner", "trader.signer"] * 3
    )
    assert certificates_expire(now=end - datetime.timedelta(seconds=1)) == 0
    assert certificates_expire(now=end + datetime.timedelta(seconds=1)) == 1
    assert certificates_expire(now=end + datetime.timedelta(days=1)) == 0
    bound.refresh_from_db()
    assert bound.status == "expired"


def test_a_reminder_missed_for_days_still_comes_once(bound):
    assert certificates_remind_expiry(now=bound.not_after - datetime.timedelta(hours=3)) == 1
    bound.refresh_from_db()
    assert bound.expiry_reminded_days == 1
    assert certificates_remind_expiry(now=bound.not_after - datetime.timedelta(hours=2)) == 0


def test_a_misuse_report_suspends_signs_out_and_flags(bound, trader, trader_owner, trader_signer, officer):
    victim = Client()
    assert sign_in(victim, "trader.signer").status_code == 302
    report = abuse_report(
        reporter=trader_owner,
        description="Someone filed declarations we never made.",
        reported_user=trader_signer,
    )
    bound.refresh_from_db()
    trader_signer.refresh_from_db()
    assert (bound.status, bound.suspended_by) == ("suspended", "system")
    assert trader_signer.must_change_password
    assert not UserSession.objects.filter(user=trader_signer).exists()
    assert victim.get("/accounts/me/").status_code == 302
    flag = Flag.objects.get(kind="abuse_report")
    assert (flag.severity, flag.organization, flag.user) == ("high", trader, trader_signer)
    assert report.flag == flag and list(report.certificates.all()) == [bound]
    (case,) = Case.objects.all()
    assert (case.status, case.organization, list(case.flags.all())) == ("open", trader, [flag])
    assert AuditEvent.objects.get(action="case.opened").actor is None  # opened by the system
    assert Notification.objects.filter(user=officer, kind="abuse_reported").exists()
    assert AuditEvent.objects.filter(action="abuse.reported", actor=trader_owner).count() == 1
    # Only an officer lifts a suspension the system imposed.
    assert refused_code(lambda: certificate_reinstate(certificate=bound, actor=trader_owner)) == "not_allowed"


def test_a_misuse_report_announces_itself_with_its_flag_first(trader, trader_owner, trader_signer):
    now = timezone.now()
    related = Flag.objects.create(
        kind="off_hours", severity="low", organization=trader, explanation="x", first_seen_at=now,
        last_seen_at=now,
    )  # fmt: skip
    heard = []

    def listen(sender, report, flags, **_kwargs):
        heard.append((sender, report, flags))
        return "never read"

    abuse_reported.connect(listen, dispatch_uid="test.listen")
    try:
        report = abuse_report(
            reporter=trader_owner, description="x", reported_user=trader_signer, related_flags=[related]
        )
    finally:
        abuse_reported.disconnect(dispatch_uid="test.listen")
    assert heard == [(AbuseReport, report, [report.flag, related])]


def test_a_report_cannot_reach_into_another_enterprise(bound, outsider, trader_signer):
    assert (
        refused_code(lambda: abuse_report(reporter=outsider, description="x", reported_user=trader_signer))
        == "not_found"
    )
    assert (
        refused_code(lambda: abuse_report(reporter=outsider, description="x", certificates=[bound]))
        == "not_found"
    )
    bound.refresh_from_db()
    assert bound.status == "active" and not AbuseReport.objects.exists()


def test_housekeeping_task(bound):
    from signatures.tasks import certificates_housekeeping_task

    Certificate.objects.filter(pk=bound.pk).update(not_after=timezone.now() - datetime.timedelta(minutes=1))
    assert certificates_housekeeping_task.delay().get() == {"expired": 1, "reminded": 0, "stale_crls": 0}
