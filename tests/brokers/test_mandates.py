"""Mandates (DESIGN §4): the state machine transition by transition, per party and role; bad input
with its own codes and nothing changed; one pending invitation per broker, trader and scope."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.models import Notification, Organization
from audit.models import AuditEvent
from brokers.models import Authorization
from brokers.selectors import broker_directory
from brokers.services import mandates
from brokers.services.licences import licence_reinstate, licence_suspend
from brokers.services.mandates import (
    authorization_accept,
    authorization_change_start,
    authorization_grant,
    authorization_invite,
    authorization_revoke,
    authorizations_sweep,
)
from core.errors import ApplicationError
from tests.factories import BrokerLicenceFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def window(start_in=0, days=180):
    start = timezone.localdate() + datetime.timedelta(days=start_in)
    return {"valid_from": start, "valid_until": start + datetime.timedelta(days=days)}


def grant(owner, broker, scopes=("import",), **changes):
    values = {
        "scopes": list(scopes), "representation": "direct", "contract_number": "HĐ-2026/01",
        "grantor_name": "Nguyễn Thị Lan", "grantor_title": "Giám đốc", **window(),
    } | changes  # fmt: skip
    return authorization_grant(actor=owner, broker=broker, **values)


def invite(broker_owner, trader, scopes=("export",), registered_on=None, **changes):
    values = {
        "trader_tax_code": trader.tax_code, "scopes": list(scopes), "representation": "indirect",
        "contract_number": "HĐ-2026/02",
        "trader_registered_on": registered_on or timezone.localdate(trader.created_at), **window(),
    } | changes  # fmt: skip
    return authorization_invite(actor=broker_owner, **values)


def code_of(call) -> str:
    with pytest.raises(ApplicationError) as refusal:
        call()
    return refusal.value.code


def test_a_trader_grants_and_the_broker_accepts(trader_owner, broker, broker_owner):
    mandate = grant(trader_owner, broker, scopes=("import", "transit"))
    assert (mandate.status, mandate.initiated_by, mandate.scopes) == (
        "invited",
        "trader",
        ["import", "transit"],
    )
    assert Notification.objects.filter(user=broker_owner, kind="mandate_invited").exists()
    accepted = authorization_accept(mandate=mandate, actor=broker_owner)
    assert accepted.status == "active" and accepted.responded_by == broker_owner
    assert accepted.covers("import", timezone.localdate()) and not accepted.covers(
        "export", timezone.localdate()
    )
    actions = list(
        AuditEvent.objects.filter(target_id=str(mandate.pk)).order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["authorization.granted", "authorization.accepted"]
    assert Notification.objects.filter(user=trader_owner, kind="mandate_changed").exists()


def test_a_broker_invites_with_the_known_fact_and_the_trader_accepts(trader, trader_owner, broker_owner):
    mandate = invite(broker_owner, trader)
    assert mandate.initiated_by == "broker"
    authorization_accept(mandate=mandate, actor=trader_owner)
    mandate.refresh_from_db()
    assert mandate.status == "active" and mandate.grantor_name == trader_owner.get_full_name()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"trader_tax_code": "0100686208"}, "invalid_tax_code"),
        ({"trader_tax_code": "0100686209-001"}, "known_fact_mismatch"),  # no such trader: the same refusal
        ({"registered_on": datetime.date(2001, 1, 1)}, "known_fact_mismatch"),
        ({"scopes": ()}, "invalid_scope"),
        ({"scopes": ("smuggling",)}, "invalid_scope"),
        ({"valid_from": TODAY + datetime.timedelta(days=10), "valid_until": TODAY}, "invalid_window"),
        ({"valid_from": TODAY - datetime.timedelta(days=30),
          "valid_until": TODAY - datetime.timedelta(days=1)},
         "invalid_window"),
    ],
)  # fmt: skip
def test_bad_invitations_have_their_own_codes_and_change_nothing(trader, broker_owner, change, code):
    assert code_of(lambda: invite(broker_owner, trader, **change)) == code
    assert not Authorization.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="authorization.").exists()


def test_an_unknown_trader_and_a_wrong_date_get_one_refusal_and_only_a_few_a_minute(
    trader, broker_owner, settings
):
    from brokers.services.mandates import UNMATCHED_PROPOSALS

    settings.KNOWN_FACT_FAILURES_PER_MINUTE = 2
    UNMATCHED_PROPOSALS.reset(f"organization:{broker_owner.organization_id}")
    refusals = []
    for change in ({"trader_tax_code": "0100686209-001"}, {"registered_on": datetime.date(2001, 1, 1)}):
        with pytest.raises(ApplicationError) as refused:
            invite(broker_owner, trader, **change)
        refusals.append(
            (refused.value.code, refused.value.detail, refused.value.fields, refused.value.status_code)
        )
    assert refusals[0] == refusals[1]  # the broker cannot tell which it was
    assert refusals[0][0] == "known_fact_mismatch"
    with pytest.raises(ApplicationError) as limited:
        invite(broker_owner, trader)  # even the right fact, until the minute has passed
    assert (limited.value.code, limited.value.status_code) == ("too_many_attempts", 429)
    UNMATCHED_PROPOSALS.reset(f"organization:{broker_owner.organization_id}")
    assert invite(broker_owner, trader).status == "invited"


def test_no_mandate_to_an_unlicensed_or_suspended_broker_or_from_an_unverified_trader(
    trader, trader_owner, broker, broker_owner, officer
):
    unlicensed = Organization.objects.create(kind="broker", tax_code="0301234562-001", name="Không phép")
    assert code_of(lambda: grant(trader_owner, unlicensed)) == "broker_licence_inactive"
    licence_suspend(licence=broker.licence, actor=officer, reason="missed reports")
    assert code_of(lambda: grant(trader_owner, broker)) == "broker_licence_inactive"
    licence_reinstate(licence=broker.licence, actor=officer, reason="reports filed")
    Organization.objects.filter(pk=trader.pk).update(status="pending_verification")
    trader_owner.organization.refresh_from_db()
    assert code_of(lambda: grant(trader_owner, broker)) == "organization_not_verified"
    assert not Authorization.objects.exists()


def test_overlapping_mandates_for_the_same_scope_are_refused(trader_owner, broker, broker_owner):
    authorization_accept(mandate=grant(trader_owner, broker), actor=broker_owner)
    assert code_of(lambda: grant(trader_owner, broker, **window(start_in=100))) == "authorization_overlap"
    # Another scope, or a later window, is fine.
    grant(trader_owner, broker, scopes=("export",))
    grant(trader_owner, broker, **window(start_in=200, days=30))


def test_one_pending_invitation_per_broker_trader_and_scope(trader_owner, broker):
    grant(trader_owner, broker, scopes=("import",), **window(days=10))
    assert code_of(lambda: grant(trader_owner, broker, scopes=("import",), **window(start_in=50))) == (
        "authorization_pending"
    )
    # The database itself refuses a second pending row for the same scope.
    first = Authorization.objects.get()
    twin = Authorization(
        trader=first.trader, broker=first.broker, scope_import=True, representation="direct",
        contract_number="x", valid_from=first.valid_from + datetime.timedelta(days=400),
        valid_until=first.valid_from + datetime.timedelta(days=500), initiated_by="trader",
        invited_by=trader_owner, invitation_expires_at=timezone.now(),
    )  # fmt: skip
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_invitations_leave_exactly_one(trader, broker_owner):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    barrier = threading.Barrier(2)
    outcomes = []

    def propose(start_in):
        try:
            barrier.wait()
            # Non-overlapping windows, so only the pending-invitation constraint can stop one.
            invite(broker_owner, trader, scopes=("import",), **window(start_in=start_in, days=5))
            outcomes.append("ok")
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=propose, args=(offset,)) for offset in (0, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["authorization_pending", "ok"]
    assert Authorization.objects.filter(status="invited").count() == 1


# --- the state machine, transition by transition -------------------------------------------------

TRANSITIONS = {
    # action: {status before: status after, or None if forbidden}
    "accept": {"invited": "active"},
    "decline": {"invited": "declined"},
    "cancel": {"invited": "cancelled"},
    "revoke": {"active": "revoked", "suspended": "revoked"},
}
ALL_STATUSES = ["invited", "active", "declined", "cancelled", "expired", "revoked", "suspended"]


@pytest.mark.parametrize("before", ALL_STATUSES)
@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_transition_is_allowed_or_refused(trader_owner, broker, broker_owner, before, action):
    mandate = grant(trader_owner, broker)
    Authorization.objects.filter(pk=mandate.pk).update(status=before)
    mandate.refresh_from_db()
    # The side that may do it: the broker answers the trader's offer; the trader cancels its own;
    # either revokes.
    actor = trader_owner if action == "cancel" else broker_owner
    run = getattr(mandates, f"authorization_{action}")
    expected = TRANSITIONS[action].get(before)
    if expected is None:
        assert code_of(lambda: run(mandate=mandate, actor=actor)) == "invalid_transition"
        mandate.refresh_from_db()
        assert mandate.status == before
    else:
        assert run(mandate=mandate, actor=actor).status == expected


@pytest.mark.parametrize(
    ("action", "who", "code"),
    [
        ("accept", "trader_owner", "not_allowed"),  # the proposer does not accept its own offer
        ("decline", "trader_owner", "not_allowed"),
        ("cancel", "broker_owner", "not_allowed"),  # only the proposer cancels
        ("accept", "broker_signer", "not_allowed"),  # staff below administrator
        ("accept", "outsider", "not_found"),
        ("revoke", "outsider", "not_found"),
        ("accept", "officer", "not_allowed"),
    ],
)
def test_who_may_do_what(request, trader_owner, broker, broker_owner, outsider, officer, action, who, code):
    mandate = grant(trader_owner, broker)
    if action == "revoke":
        authorization_accept(mandate=mandate, actor=broker_owner)
    actor = (
        UserFactory(organization=broker, role="signer")
        if who == "broker_signer"
        else {
            "trader_owner": trader_owner,
            "broker_owner": broker_owner,
            "outsider": outsider,
            "officer": officer,
        }[who]
    )
    before = Authorization.objects.get(pk=mandate.pk).status
    assert code_of(lambda: getattr(mandates, f"authorization_{action}")(mandate=mandate, actor=actor)) == code
    assert Authorization.objects.get(pk=mandate.pk).status == before


def test_who_ended_it_is_recorded(trader_owner, broker, broker_owner, officer):
    ended = []
    for actor, party in ((trader_owner, "trader"), (broker_owner, "broker"), (officer, "officer")):
        mandate = grant(trader_owner, broker, **window(start_in=len(ended) * 200, days=100))
        authorization_accept(mandate=mandate, actor=broker_owner)
        revoked = authorization_revoke(mandate=mandate, actor=actor, reason="contract over")
        ended.append((revoked.ended_by_party, revoked.ended_by, revoked.end_reason))
        assert revoked.ended_by_party == party
    assert ended[2] == ("officer", officer, "contract over")


def test_an_invitation_expires_after_21_days_with_a_reminder_5_days_before(
    trader_owner, broker, broker_owner
):
    mandate = grant(trader_owner, broker)
    sent = mandate.invited_at
    with time_machine.travel(sent + datetime.timedelta(days=15)):
        assert authorizations_sweep()["reminded"] == 0
    with time_machine.travel(sent + datetime.timedelta(days=16, hours=1)):
        assert authorizations_sweep()["reminded"] == 1
        assert authorizations_sweep()["reminded"] == 0
    assert Notification.objects.filter(user=broker_owner, kind="mandate_expiring").count() == 1
    with time_machine.travel(sent + datetime.timedelta(days=21, minutes=1)):
        assert code_of(lambda: authorization_accept(mandate=mandate, actor=broker_owner)) == (
            "invalid_transition"
        )
        assert authorizations_sweep()["invitations_expired"] == 1
    mandate.refresh_from_db()
    assert (mandate.status, mandate.ended_by_party) == ("expired", "system")


def test_an_active_mandate_expires_after_its_last_day(trader_owner, broker, broker_owner):
    mandate = authorization_accept(mandate=grant(trader_owner, broker, **window(days=3)), actor=broker_owner)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        assert authorizations_sweep()["mandates_expired"] == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(days=5)):
        assert authorizations_sweep()["mandates_expired"] == 1
    mandate.refresh_from_db()
    assert mandate.status == "expired"


def test_the_start_can_move_only_while_in_the_future(trader_owner, broker, broker_owner):
    future = grant(trader_owner, broker, **window(start_in=10))
    moved = authorization_change_start(
        mandate=future, actor=trader_owner, valid_from=timezone.localdate() + datetime.timedelta(days=5)
    )
    assert moved.valid_from == timezone.localdate() + datetime.timedelta(days=5)
    assert (
        code_of(
            lambda: authorization_change_start(
                mandate=future,
                actor=trader_owner,
                valid_from=timezone.localdate() - datetime.timedelta(days=1),
            )
        )
        == "invalid_transition"
    )
    started = grant(trader_owner, broker, scopes=("export",))
    assert (
        code_of(
            lambda: authorization_change_start(
                mandate=started,
                actor=trader_owner,
                valid_from=timezone.localdate() + datetime.timedelta(days=3),
            )
        )
        == "invalid_transition"
    )


def test_the_directory_hides_nothing_public_and_shows_nothing_private(broker, broker_agent):
    other = BrokerLicenceFactory(organization__name="Đại lý Bến Thành", organization__province="Đà Nẵng")
    assert list(broker_directory(query="Bến")) == [other]
    assert list(broker_directory(province="Đà Nẵng")) == [other]
    assert list(broker_directory(query=broker.tax_code)) == [broker.licence]
    assert list(broker_directory(query=broker.licence.number)) == [broker.licence]
