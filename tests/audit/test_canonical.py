"""The canonical form (README, "Audit trail") is fixed byte for byte."""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.canonical import AuditDataError, canonical_event, canonical_from_text, format_timestamp
from audit.models import Action, AuditEvent
from audit.selectors import event_canonical_bytes, sealed_canonical_rows, unsealed_canonical_rows
from audit.services.events import audit_event_record
from audit.services.sealing import audit_seal
from core.context import RequestContext, bound_context
from tests.fuzz import examples

FIXED = {
    "event_id": uuid.UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
    "occurred_at": datetime.datetime(2026, 11, 23, 17, 8, 4, 123456, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
    "action": "certificate.bound",
    "actor_id": 12,
    "organization_id": 3,
    "target_type": "signatures.certificate",
    "target_id": "41",
    "data": {"serial": "5403e1f3", "tên": "Hòa Bình", "b": [1, None, True]},
    "channel": "portal",
    "ip": "203.0.113.7",
    "user_agent": 'Mozilla/5.0 "quoted"',
    "request_id": "req-1",
    "network_salt": bytes(range(16)),
}
FORMAT_1 = dict(FIXED, network_salt=None)


def test_the_canonical_form_is_exactly_as_documented():
    # Format 2: the network details only through SHA-256(salt ‖ their canonical JSON).
    commitment = hashlib.sha256(
        bytes(range(16))
        + b'{"ip":"203.0.113.7","request_id":"req-1","user_agent":"Mozilla/5.0 \\"quoted\\""}'
    ).hexdigest()
    assert (
        canonical_event(**FIXED)
        == (
            '{"action":"certificate.bound","actor":"12","context":{"channel":"portal",'
            f'"commitment":"{commitment}"}},"data":{{"b":[1,null,true],'
            '"serial":"5403e1f3","tên":"Hòa Bình"},"event_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7",'
            '"occurred_at":"2026-11-23T10:08:04.123456Z","organization":"3",'
            '"target":{"id":"41","type":"signatures.certificate"},"v":2}'
        ).encode()
    )
    assert b"203.0.113.7" not in canonical_event(**FIXED) and b"Mozilla" not in canonical_event(**FIXED)


def test_format_1_events_keep_their_bytes():
    assert (
        canonical_event(**FORMAT_1)
        == (
            '{"action":"certificate.bound","actor":"12","context":{"channel":"portal","ip":"203.0.113.7",'
            '"request_id":"req-1","user_agent":"Mozilla/5.0 \\"quoted\\""},"data":{"b":[1,null,true],'
            '"serial":"5403e1f3","tên":"Hòa Bình"},"event_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7",'
            '"occurred_at":"2026-11-23T10:08:04.123456Z","organization":"3",'
            '"target":{"id":"41","type":"signatures.certificate"},"v":1}'
        ).encode()
    )


def test_timestamps_are_utc_with_microseconds_even_when_zero():
    moment = datetime.datetime(2026, 1, 1, 7, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert format_timestamp(moment) == "2026-01-01T00:00:00.000000Z"
    with pytest.raises(AuditDataError, match="timezone-aware"):
        format_timestamp(datetime.datetime(2026, 1, 1))  # noqa: DTZ001


def test_absent_values_are_null():
    blank = dict(FORMAT_1, actor_id=None, organization_id=None, target_type="", target_id="", ip="", data={})
    decoded = json.loads(canonical_event(**blank))
    assert decoded["actor"] is None and decoded["organization"] is None and decoded["target"] is None
    assert decoded["context"]["ip"] is None
    assert decoded["data"] == {}
    salted = json.loads(canonical_event(**dict(blank, network_salt=bytes(16))))
    opened = hashlib.sha256(
        bytes(16) + b'{"ip":null,"request_id":"req-1","user_agent":"Mozilla/5.0 \\"quoted\\""}'
    )
    assert salted["context"] == {"channel": "portal", "commitment": opened.hexdigest()}


text = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**62), 2**62) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=examples(300), deadline=None)
@given(
    action=text,
    actor=st.none() | st.integers(1, 10**12),
    target_type=text,
    target_id=text,
    data=st.dictionaries(text.filter(lambda k: "pass" not in k.lower()), json_values, max_size=5),
    channel=text,
    ip=st.sampled_from(["", "203.0.113.7", "2001:db8::1"]),
    user_agent=text,
    request_id=text,
    salt=st.none() | st.binary(min_size=16, max_size=16),
    moment=st.datetimes(
        min_value=datetime.datetime(2000, 1, 1),  # noqa: DTZ001 - naive bounds; hypothesis attaches UTC
        max_value=datetime.datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(datetime.UTC),
    ),
)
def test_the_fast_text_form_equals_the_definition(
    action, actor, target_type, target_id, data, channel, ip, user_agent, request_id, salt, moment
):
    event_id = uuid.uuid4()
    from audit.verify_receipt import canonical_json

    defined = canonical_event(
        event_id=event_id,
        occurred_at=moment,
        action=action,
        actor_id=actor,
        organization_id=None,
        target_type=target_type,
        target_id=target_id,
        data=data,
        channel=channel,
        ip=ip,
        user_agent=user_agent,
        request_id=request_id,
        network_salt=salt,
    )
    fast = canonical_from_text(
        str(event_id),
        format_timestamp(moment),
        action,
        None if actor is None else str(actor),
        None,
        target_type,
        target_id,
        canonical_json(data).decode(),
        channel,
        ip,
        user_agent,
        request_id,
        None if salt is None else memoryview(salt),  # as PostgreSQL's driver may hand it over
    )
    assert fast == defined


TRICKY = [
    "Công ty Hòa Bình",
    'quote " and \\ backslash',
    "tab\tnew\nline\r",
    "\x01\x1f\x7f",
    "emoji 🚢",
    "‮rtl",
]


@pytest.mark.django_db
def test_the_database_paths_give_the_same_bytes_as_the_model(trader_owner):
    context = RequestContext(
        request_id="r" * 64, channel="api", ip="2001:db8::1", user_agent="\u00e9\u00e8" * 10
    )
    with bound_context(context):
        events = [
            audit_event_record(
                action=Action.CONTACT_CHANGED,
                actor=trader_owner,
                organization=trader_owner.organization,
                target=("accounts.user", value),
                data={"value": value, value: [value]},
            )
            for value in TRICKY
        ]
    expected = {event.pk: event_canonical_bytes(AuditEvent.objects.get(pk=event.pk)) for event in events}
    assert dict(unsealed_canonical_rows(100)) == expected
    audit_seal()
    rows = sealed_canonical_rows(0, 100)
    assert [row[4] for row in rows] == [expected[e.pk] for e in events]
    assert [row[3] for row in rows] == [str(e.event_id) for e in events]
