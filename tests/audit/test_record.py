from __future__ import annotations

import datetime
import threading

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.services.organizations import organization_create
from accounts.services.users import user_create
from audit.canonical import AuditDataError
from audit.middleware import RequestContextMiddleware
from audit.models import Action, AuditEvent
from audit.selectors import event_canonical_bytes
from audit.services.events import audit_event_record, audit_events_record
from core.context import Channel, RequestContext, bound_context


@pytest.mark.django_db
def test_it_records_who_what_and_where_from_the_bound_context(trader_owner):
    context = RequestContext(
        request_id="req-abcdef12", channel=Channel.PORTAL, ip="203.0.113.7", user_agent="UA/1"
    )
    with bound_context(context):
        event = audit_event_record(
            action=Action.USER_ROLE_CHANGED,
            actor=trader_owner,
            organization=trader_owner.organization,
            target=trader_owner,
            data={"from": "viewer", "to": "signer"},
        )
    event.refresh_from_db()
    assert (event.action, event.actor, event.organization) == (
        "user.role_changed",
        trader_owner,
        trader_owner.organization,
    )
    assert (event.target_type, event.target_id) == ("accounts.user", str(trader_owner.pk))
    assert (event.channel, event.ip, event.user_agent, event.request_id) == (
        "portal",
        "203.0.113.7",
        "UA/1",
        "req-abcdef12",
    )
    assert event.position is None


@pytest.mark.django_db
def test_the_middleware_binds_the_request_context_for_services(trader_owner):
    recorded = {}

    def view(request):
        recorded["event"] = audit_event_record(action=Action.SIGNED_OUT, actor=trader_owner)
        return HttpResponse("ok")

    request = RequestFactory().get(
        "/api/v1/me",
        HTTP_USER_AGENT="curl/8",
        HTTP_X_REQUEST_ID="edge-req-000001",
        REMOTE_ADDR="2001:DB8::0:1",
    )
    response = RequestContextMiddleware(view)(request)
    event = recorded["event"]
    assert event.channel == "api"
    assert event.ip == "2001:db8::1"  # one spelling of each address, as the canonical form needs
    assert event.user_agent == "curl/8"
    assert event.request_id == response["X-Request-ID"] == "edge-req-000001"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_event():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_event_record(action=Action.ORGANIZATION_CREATED, data={"n": 1})
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_committed_events_are_sealed_after_the_commit():
    with transaction.atomic():
        audit_event_record(action=Action.ORGANIZATION_CREATED, data={"n": 1})
        assert AuditEvent.objects.get().position is None
    assert AuditEvent.objects.get().position == 0


@pytest.mark.django_db
def test_it_refuses_an_unknown_action():
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_event_record(action="declaration.teleported")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": 1.5}, "float is not allowed"),
        ({"password": "hunter2"}, "secrets never go into the audit trail"),
        ({"nested": {"api_key": "x"}}, "secrets never go into the audit trail"),
        ({"note": "a\x00b"}, "NUL characters"),
        ({"n": 2**70}, "integer out of range"),
        ({1: "x"}, "keys must be strings"),
        ({"when": datetime.date(2026, 1, 1)}, "date is not allowed"),
    ],
)
@pytest.mark.django_db
def test_it_refuses_data_that_cannot_be_stored_faithfully(data, message):
    with pytest.raises(AuditDataError, match=message):
        audit_event_record(action=Action.ORGANIZATION_CREATED, data=data)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_canonical_bytes_survive_the_database_round_trip():
    data = {"tên": "Công ty Hòa Bình", "list": [1, "hai", None, True], "nested": {"z": 1, "a": -(2**62)}}
    event = audit_event_record(action=Action.ORGANIZATION_CREATED, data=data)
    before = event_canonical_bytes(event)
    assert event_canonical_bytes(AuditEvent.objects.get(pk=event.pk)) == before


@pytest.mark.django_db
def test_services_write_their_audit_event_in_the_same_transaction(officer):
    organization = organization_create(kind="trader", tax_code="3500807781", name="Công ty A", actor=officer)
    user = user_create(
        username="a.owner",
        email="a@example.test",
        role="owner",
        organization=organization,
        actor=officer,
        password="quiet-lantern-orchard-4471",
        national_id_number="001203004567",
    )
    events = list(
        AuditEvent.objects.order_by("id").values_list("action", "actor", "organization", "target_id", "data")
    )
    assert events == [
        (
            "organization.created",
            officer.pk,
            organization.pk,
            str(organization.pk),
            {"kind": "trader", "tax_code": "3500807781", "status": "pending_verification"},
        ),
        ("user.created", officer.pk, organization.pk, str(user.pk), {"username": "a.owner", "role": "owner"}),
    ]
    stored = "".join(str(row) for row in AuditEvent.objects.values_list("data", flat=True))
    assert "001203004567" not in stored and "quiet-lantern" not in stored


@pytest.mark.django_db
def test_a_refused_change_leaves_no_audit_event(officer):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        organization_create(kind="trader", tax_code="3500807780", name="Sai", actor=officer)
    assert not AuditEvent.objects.exists()


def test_the_context_is_per_thread():
    seen = {}

    def worker():
        from core.context import current_context

        seen["other"] = current_context().request_id

    with bound_context(RequestContext(request_id="main-thread-1")):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen["other"] == ""


@pytest.mark.parametrize(
    ("count", "proxies", "forwarded", "expected"),
    [
        (0, [], "203.0.113.50", "198.51.100.9"),  # no proxy configured: the header is ignored
        (1, [], "203.0.113.50", "203.0.113.50"),
        (1, [], "6.6.6.6, 203.0.113.50", "203.0.113.50"),  # the client's own entry is not believed
        (2, [], "6.6.6.6, 203.0.113.50, 10.0.0.2", "203.0.113.50"),
        (2, [], "203.0.113.50", "198.51.100.9"),  # fewer hops than proxies: fall back to the peer
        (1, [], "not-an-ip", "198.51.100.9"),
        (1, [], "2001:DB8::0:1", "2001:db8::1"),
        (0, ["198.51.100.0/24", "10.0.0.0/8"], "6.6.6.6, 203.0.113.50, 10.0.0.2", "203.0.113.50"),
        (0, ["192.0.2.0/24"], "203.0.113.50", "198.51.100.9"),  # the peer is not a trusted proxy
    ],
)
def test_forwarded_addresses_are_believed_only_from_configured_proxies(
    settings, count, proxies, forwarded, expected
):
    from audit.middleware import client_ip

    settings.TRUSTED_PROXY_COUNT = count
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def _stored(pk, leave_out=()) -> dict:
    row = AuditEvent.objects.filter(pk=pk).values().get()
    return {name: value for name, value in row.items() if name not in {"id", *leave_out}}


@pytest.mark.django_db
def test_audit_events_record_writes_what_audit_event_record_writes_and_checks_first(trader_signer):
    organization = trader_signer.organization
    at = datetime.datetime.now(datetime.UTC)
    arguments = {
        "action": "flag.raised",
        "actor": trader_signer,
        "organization": organization,
        "target": ("audit.flag", "12"),
        "data": {"kind": "new_device", "n": 1},
        "occurred_at": at,
    }
    one = audit_event_record(**arguments)
    [many] = audit_events_record(events=[arguments])
    leave_out = {"event_id", "network_salt"}  # both random per event
    assert _stored(many, leave_out) == _stored(one.pk, leave_out)
    salts = AuditEvent.objects.filter(pk__in=[one.pk, many]).values_list("network_salt", flat=True)
    assert [len(bytes(salt)) for salt in salts] == [16, 16] and len({bytes(s) for s in salts}) == 2
    count = AuditEvent.objects.count()
    with pytest.raises(AuditDataError):
        audit_events_record(events=[arguments, {**arguments, "data": {"password": "x"}}])
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_events_record(events=[arguments, {**arguments, "action": "no.such"}])
    assert AuditEvent.objects.count() == count  # nothing of a refused batch is written
