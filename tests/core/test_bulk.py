"""core.bulk: bulk_update_rows gives each row its own values, whatever the column type, and rows
left out keep theirs; bulk_insert_rows inserts the rows bulk_create inserts (PostgreSQL's
one-statement paths and Django's own on SQLite)."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import Flag
from audit.services.flags import flag_raise
from core.bulk import bulk_update_rows

pytestmark = pytest.mark.django_db


def _flags(count: int) -> list[Flag]:
    return [
        flag_raise(kind=f"kind_{index}", severity="low", explanation="first", evidence={"seen": index})[0]
        for index in range(count)
    ]


def test_every_row_gets_its_own_values_and_the_others_keep_theirs():
    flags = _flags(4)
    base = timezone.now().replace(microsecond=0)
    changed = flags[:3]
    for index, flag in enumerate(changed):
        flag.count = 10 + index
        flag.last_seen_at = base + datetime.timedelta(hours=index)
        flag.evidence = {"seen": [index, "ø"], "nested": {"quote": 'it\'s "x"'}}
        flag.explanation = f"changed {index}; DROP TABLE audit_flag; --"
        flag.severity = ["medium", "high", "low"][index]
    with CaptureQueriesContext(connection) as queries:
        bulk_update_rows(Flag, changed, ["count", "last_seen_at", "evidence", "explanation", "severity"])
    if connection.vendor == "postgresql":
        [query] = queries.captured_queries
        assert "json_to_recordset" in query["sql"]
    for index, flag in enumerate(changed):
        stored = Flag.objects.get(pk=flag.pk)
        assert (stored.count, stored.last_seen_at, stored.evidence, stored.explanation, stored.severity) == (
            10 + index, base + datetime.timedelta(hours=index),
            {"seen": [index, "ø"], "nested": {"quote": "it's \"x\""}},
            f"changed {index}; DROP TABLE audit_flag; --", ["medium", "high", "low"][index],
        )  # fmt: skip
    untouched = Flag.objects.get(pk=flags[3].pk)
    assert (untouched.count, untouched.evidence, untouched.explanation) == (1, {"seen": 3}, "first")


def test_only_the_named_fields_change_and_nothing_is_a_no_op():
    (flag,) = _flags(1)
    bulk_update_rows(Flag, [], ["count"])
    flag.count, flag.explanation = 7, "not saved"
    bulk_update_rows(Flag, [flag], ["count"])
    stored = Flag.objects.get(pk=flag.pk)
    assert (stored.count, stored.explanation) == (7, "first")


# --- bulk_insert_rows ------------------------------------------------------------------------------


def _stored(model, pk, leave_out=()):
    row = model.objects.filter(pk=pk).values().get()
    return {name: value for name, value in row.items() if name not in {"id", *leave_out}}


def _audit_events(organization, flag, at):
    from audit.models import AuditEvent

    return [
        AuditEvent(
            occurred_at=at + datetime.timedelta(microseconds=index),
            action="flag.raised",
            organization=organization if index % 2 else None,
            target_type="audit.flag",
            target_id=str(flag.pk),
            data={"kind": "new_device", "user": None if index else "7", "note": 'ø "q" \\ ;--', "n": index},
            channel="system",
            ip="2001:db8::1" if index else "",
            user_agent="Mozilla/5.0 (ø)",
            request_id="",
        )
        for index in range(3)
    ]


def test_inserted_rows_are_those_bulk_create_inserts(trader_signer):
    from accounts.models import Notification, SignInEvent, SignInReview
    from audit.models import AuditEvent
    from core.bulk import bulk_insert_rows

    (flag,) = _flags(1)
    at = timezone.now()
    organization = trader_signer.organization
    event = SignInEvent.objects.create(
        user=trader_signer, username_digest="d", channel="portal", outcome="succeeded", occurred_at=at
    )

    def rows():
        return {
            AuditEvent: _audit_events(organization, flag, at),
            Notification: [
                Notification(user=trader_signer, kind="risk_response", params={"responses": ["up"], "n": n})
                for n in range(2)
            ],
            SignInReview: [SignInReview(event=event, recipient=trader_signer, expires_at=at)],
            Flag: [
                Flag(
                    kind="new_device",
                    severity="low",
                    user=trader_signer,
                    organization=organization,
                    evidence={"device": "ø", "signin": "1"},
                    explanation="x",
                    first_seen_at=at,
                    last_seen_at=at,
                )
            ],
        }

    # Left out: what is random or the time of the insert.
    random = {AuditEvent: {"event_id"}, SignInReview: {"nonce", "created_at"}, Notification: {"created_at"}}
    ours, django = rows(), rows()
    for model in ours:
        with CaptureQueriesContext(connection) as queries:
            inserted = bulk_insert_rows(model, ours[model])
        model.objects.bulk_create(django[model])
        if connection.vendor == "postgresql":  # one statement, not Django's own as a fallback
            [query] = queries.captured_queries
            assert "json_to_recordset" in query["sql"]
        assert [obj.pk for obj in inserted] == [obj.pk for obj in ours[model]]
        assert all(obj.pk and not obj._state.adding for obj in ours[model])
        for mine, theirs in zip(ours[model], django[model], strict=True):
            leave_out = random.get(model, set())
            assert _stored(model, mine.pk, leave_out) == _stored(model, theirs.pk, leave_out), model
    # Defaults and auto_now_add were filled in on the objects, as bulk_create does.
    review = ours[SignInReview][0]
    assert review.nonce and SignInReview.objects.get(pk=review.pk).nonce == review.nonce
    assert ours[AuditEvent][0].event_id == AuditEvent.objects.get(pk=ours[AuditEvent][0].pk).event_id


def test_inserting_nothing_is_no_statement():
    from core.bulk import bulk_insert_rows

    with CaptureQueriesContext(connection) as queries:
        assert bulk_insert_rows(Flag, []) == []
    assert not queries.captured_queries


def test_bytes_and_what_json_cannot_carry_are_stored_as_bulk_create_stores_them(trader_signer):
    from audit.models import AuditEvent
    from core.bulk import bulk_insert_rows

    at = timezone.now()

    def sealed(position):
        (event,) = _audit_events(None, _flags(1)[0], at)[:1]
        event.position, event.sealed_at = position, at
        event.chain_hash, event.leaf_hash = bytes(range(32)), b"\x00\\x'\"" * 8
        return event

    def null_evidence():
        return Flag(kind="new_device", severity="low", evidence=None, first_seen_at=at, last_seen_at=at)

    ours, theirs = sealed(10**9), sealed(10**9 + 1)
    bulk_insert_rows(AuditEvent, [ours])
    AuditEvent.objects.bulk_create([theirs])
    leave_out = {"event_id", "position"}
    assert _stored(AuditEvent, ours.pk, leave_out) == _stored(AuditEvent, theirs.pk, leave_out)
    assert bytes(AuditEvent.objects.get(pk=ours.pk).leaf_hash) == b"\x00\\x'\"" * 8
    # JSON null or SQL NULL is Django's to decide: the row goes through bulk_create (SQL NULL,
    # which this column refuses).
    for insert in (lambda rows: bulk_insert_rows(Flag, rows), Flag.objects.bulk_create):
        with pytest.raises(IntegrityError), transaction.atomic():
            insert([null_evidence()])


def test_inserted_values_are_the_rows_bulk_create_inserts(trader_signer):
    """bulk_insert_values: rows as {attname: value}; fields left out get their default (the event
    id), auto_now_add its time of insert (a notification's created_at)."""
    from accounts.models import Notification
    from audit.models import AuditEvent
    from core.bulk import bulk_insert_values

    (flag,) = _flags(1)
    at = timezone.now()
    organization = trader_signer.organization
    events = _audit_events(organization, flag, at)
    values = [
        {
            field.attname: getattr(event, field.attname)
            for field in AuditEvent._meta.concrete_fields
            if field.attname not in {"id", "event_id"}
        }
        for event in events
    ]
    with CaptureQueriesContext(connection) as queries:
        ids = bulk_insert_values(AuditEvent, values)
    AuditEvent.objects.bulk_create(events)
    if connection.vendor == "postgresql":
        [query] = queries.captured_queries
        assert "json_to_recordset" in query["sql"]
    assert len(ids) == 3 and ids == sorted(ids)
    for mine, theirs in zip(ids, events, strict=True):
        assert _stored(AuditEvent, mine, {"event_id"}) == _stored(AuditEvent, theirs.pk, {"event_id"})
    assert len(set(AuditEvent.objects.filter(pk__in=ids).values_list("event_id", flat=True))) == 3
    before = timezone.now()
    [notice] = bulk_insert_values(Notification, [{"user_id": trader_signer.pk, "kind": "risk_response"}])
    stored = Notification.objects.get(pk=notice)
    assert stored.created_at >= before and stored.params == {} and stored.read_at is None
    assert bulk_insert_values(Notification, []) == []
