"""The REST API with API keys (DESIGN §6): keys shown once and hashed, scoped, expiring, revocable,
suspended with the licence, useless after the agent leaves; every endpoint refuses an outsider."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertInHTML

from accounts.models import SignInEvent
from audit.models import AuditEvent
from brokers.models import Authorization, OrganizationAPIKey
from brokers.services.agents import agent_leave, agent_register
from brokers.services.api_keys import api_key_create, api_key_revoke
from brokers.services.licences import licence_suspend
from core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def key_for(user, scopes=("read", "manage"), days=30, actor=None):
    _key, secret = api_key_create(
        actor=actor or user, holder=user, name="ecus", scopes=list(scopes), expires_in_days=days
    )
    return secret


def api(secret, **extra):
    return Client(
        HTTP_AUTHORIZATION=f"Api-Key {secret}", REMOTE_ADDR="203.0.113.9", HTTP_ACCEPT_LANGUAGE="en", **extra
    )


def mandate_body(**changes):
    start = timezone.localdate()
    return {
        "scopes": ["import"], "representation": "direct", "contract_number": "HĐ-01",
        "valid_from": start.isoformat(), "valid_until": (start + datetime.timedelta(days=90)).isoformat(),
    } | changes  # fmt: skip


def test_a_key_is_shown_once_and_only_its_hash_is_kept(broker_owner):
    secret = key_for(broker_owner)
    key = OrganizationAPIKey.objects.get()
    assert secret.startswith(key.prefix + ".")
    assert secret not in key.hashed_key and key.hashed_key.count("$") >= 2
    event = AuditEvent.objects.get(action="api_key.created")
    assert secret not in str(event.data) and event.data["prefix"] == key.prefix


def test_me_tells_who_the_key_acts_as(broker_owner, broker_agent, broker_licence, trader_owner):
    response = api(key_for(broker_owner)).get(reverse("api_me"))
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == "broker.owner" and body["organization"]["kind"] == "broker"
    assert sorted(body["key"]["scopes"]) == ["manage", "read"]
    assert body["agent"] is None  # the owner manages; it is not a customs agent
    assert body["licence"] == {
        "number": broker_licence.number, "status": "active",
        "issued_on": broker_licence.issued_on.isoformat(), "expires_on": None,
    }  # fmt: skip
    agent = api(key_for(broker_agent, actor=broker_owner)).get(reverse("api_me")).json()
    profile = broker_agent.agent_profile
    assert agent["agent"] == {"number": profile.agent_number, "joined_on": profile.joined_on.isoformat(),
                              "left_on": None}  # fmt: skip
    assert agent["licence"]["number"] == broker_licence.number
    trader = api(key_for(trader_owner)).get(reverse("api_me")).json()
    assert (trader["agent"], trader["licence"]) == (None, None)


def test_a_bearer_token_gets_a_401_that_names_the_api_key_scheme(broker_owner):
    secret = key_for(broker_owner)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en").get(reverse("api_me"))
    assert (response.status_code, response["WWW-Authenticate"]) == (401, "Api-Key")
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "Use the Api-Key scheme: Authorization: Api-Key <your key>.",
        "fields": {},
    }
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("api_me"))
    assert (anonymous.status_code, anonymous["WWW-Authenticate"]) == (401, "Api-Key")


def test_the_broker_accepts_a_mandate_through_the_api_and_both_see_it(trader_owner, broker, broker_owner):
    trader_client = api(key_for(trader_owner))
    offered = trader_client.post(
        reverse("api_authorizations"),
        mandate_body(broker_tax_code=broker.tax_code),
        content_type="application/json",
    )
    assert offered.status_code == 201, offered.json()
    mandate_id = offered.json()["id"]
    broker_client = api(key_for(broker_owner))
    accepted = broker_client.post(reverse("api_authorization_accept", args=[mandate_id]))
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"
    for client in (trader_client, broker_client):
        listed = client.get(reverse("api_authorizations")).json()
        assert [item["id"] for item in listed["results"]] == [mandate_id]
    assert broker_client.get(reverse("api_authorizations") + "?status=invited").json()["results"] == []


def test_a_broker_invites_through_the_api(trader, trader_owner, broker_owner):
    body = mandate_body(
        trader_tax_code=trader.tax_code, trader_registered_on=str(timezone.localdate(trader.created_at))
    )
    response = api(key_for(broker_owner)).post(
        reverse("api_authorizations"), body, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["initiated_by"] == "broker"
    wrong = api(key_for(broker_owner)).post(
        reverse("api_authorizations"),
        mandate_body(trader_tax_code=trader.tax_code, trader_registered_on="2001-01-01", scopes=["export"]),
        content_type="application/json",
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "known_fact_mismatch"


def test_a_forbidden_transition_is_409_with_its_code(trader_owner, broker, broker_owner):
    offered = api(key_for(trader_owner)).post(
        reverse("api_authorizations"),
        mandate_body(broker_tax_code=broker.tax_code),
        content_type="application/json",
    )
    response = api(key_for(broker_owner)).post(
        reverse("api_authorization_revoke", args=[offered.json()["id"]])
    )
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"


def test_a_read_key_cannot_change_anything(broker, trader_owner):
    response = api(key_for(trader_owner, scopes=["read"])).post(
        reverse("api_authorizations"),
        mandate_body(broker_tax_code=broker.tax_code),
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"
    assert not Authorization.objects.exists()


def test_the_key_cannot_do_what_its_holders_role_cannot(trader, broker):
    from tests.factories import UserFactory

    viewer = UserFactory(organization=trader, role="viewer")
    response = api(key_for(viewer)).post(
        reverse("api_authorizations"),
        mandate_body(broker_tax_code=broker.tax_code),
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"


@pytest.mark.parametrize(
    "state", ["revoked", "expired", "suspended", "wrong", "holder_deactivated", "agent_left"]
)
def test_dead_keys_are_refused_with_one_answer(broker_owner, broker_agent, officer, state):
    holder = broker_agent if state == "agent_left" else broker_owner
    secret = key_for(holder, actor=broker_owner)
    key = OrganizationAPIKey.objects.get()
    travel = None
    if state == "revoked":
        api_key_revoke(key=key, actor=broker_owner)
    elif state == "expired":
        travel = timezone.now() + datetime.timedelta(days=31)
    elif state == "suspended":
        licence_suspend(licence=broker_owner.organization.licence, actor=officer, reason="reports")
    elif state == "wrong":
        secret = secret[:-2] + ("xx" if not secret.endswith("xx") else "yy")
    elif state == "holder_deactivated":
        type(holder).objects.filter(pk=holder.pk).update(is_active=False)
    elif state == "agent_left":
        agent_leave(agent=broker_agent.agent_profile, left_on=timezone.localdate(), actor=broker_owner)
    if travel:
        with time_machine.travel(travel):
            response = api(secret).get(reverse("api_me"))
    else:
        response = api(secret).get(reverse("api_me"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "This API key is not valid.",
        "fields": {},
    }


def test_bad_key_requests(broker_owner, trader_owner):
    cases = [(["root"], 30, "invalid_scope"), ([], 30, "invalid_scope"), (["read"], 367, "invalid_expiry"),
             (["read"], 0, "invalid_expiry")]  # fmt: skip
    for scopes, days, code in cases:
        with pytest.raises(ApplicationError) as refused:
            api_key_create(
                actor=broker_owner, holder=broker_owner, name="x", scopes=scopes, expires_in_days=days
            )
        assert refused.value.code == code
    with pytest.raises(ApplicationError) as refused:
        api_key_create(actor=broker_owner, holder=trader_owner, name="x", scopes=["read"])
    assert refused.value.code == "not_found"
    assert not OrganizationAPIKey.objects.exists()


def test_first_use_from_a_network_each_day_is_an_api_sign_in(broker_owner):
    secret = key_for(broker_owner)
    for _ in range(3):
        api(secret).get(reverse("api_me"))
    assert SignInEvent.objects.filter(user=broker_owner, channel="api").count() == 1
    Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", REMOTE_ADDR="198.51.100.4").get(reverse("api_me"))
    assert SignInEvent.objects.filter(user=broker_owner, channel="api").count() == 2
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", REMOTE_ADDR="198.51.100.4").get(reverse("api_me"))
    assert SignInEvent.objects.filter(user=broker_owner, channel="api").count() == 3
    key = OrganizationAPIKey.objects.get()
    assert key.last_used_network == "198.51.100.0/24"


def test_the_directory_is_public_and_shows_no_staff(client, broker, broker_agent):
    response = client.get(reverse("api_brokers") + "?q=" + broker.tax_code)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["tax_code"] for row in results] == [broker.tax_code]
    assert set(results[0]) == {"name", "tax_code", "province", "address", "licence_number", "issued_by",
                               "issued_on", "status"}  # fmt: skip
    assert "broker.agent" not in response.content.decode()
    page = client.get(reverse("broker_directory") + "?q=" + broker.tax_code)
    assert page.status_code == 200 and broker.name in page.content.decode()


def test_an_outsider_reaches_nothing_of_another_organisation(trader_owner, broker, broker_owner, outsider):
    offered = api(key_for(trader_owner)).post(
        reverse("api_authorizations"),
        mandate_body(broker_tax_code=broker.tax_code),
        content_type="application/json",
    )
    mandate_id = offered.json()["id"]
    intruder = api(key_for(outsider))
    assert intruder.get(reverse("api_authorizations")).json()["results"] == []
    for action in ("accept", "decline", "cancel", "revoke"):
        response = intruder.post(reverse(f"api_authorization_{action}", args=[mandate_id]))
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Authorization.objects.get(pk=mandate_id).status == "invited"
    portal = Client()
    from tests.helpers import sign_in

    sign_in(portal, "outsider")
    assert portal.post(reverse("mandate_action", args=[mandate_id]), {"action": "accept"}).status_code == 404
    assert broker.name not in portal.get(reverse("mandate_list")).content.decode()


def test_the_schema_and_docs_are_served_without_internet_assets(client):
    schema = client.get(reverse("api_schema"))
    assert schema.status_code == 200
    docs = client.get(reverse("api_docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs.split("<body", 1)[1]
    text = schema.content.decode()
    for path in ("/api/v1/authorizations/", "/api/v1/certificates/", "/api/v1/me", "/api/v1/brokers/"):
        assert path in text


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    written = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(written))  # raises on a warning
    assert written.read_text().startswith("openapi: 3.")


def test_broker_managers_propose_agents_and_mark_them_left(
    client, broker, broker_owner, broker_agent, outsider
):
    from brokers.models import AgentProposal
    from tests.factories import UserFactory
    from tests.helpers import sign_in

    newcomer = UserFactory(organization=broker, role="signer", username="new.agent")
    sign_in(client, "broker.owner")
    response = client.post(reverse("agents"), {"user": newcomer.pk, "agent_number": "DL-0001-0099"})
    assert response.status_code == 302
    proposal = AgentProposal.objects.get(user=newcomer)
    assert proposal.status == "proposed" and not hasattr(newcomer, "agent_profile")
    duplicate = client.post(
        reverse("agents"),
        {"user": UserFactory(organization=broker, role="signer").pk, "agent_number": "DL-0001-0099"},
    )
    assert duplicate.status_code == 400
    assert "duplicate_agent_number" in duplicate.context["form"].errors["agent_number"][0]
    agent = broker_agent.agent_profile
    client.post(reverse("agents"), {"leave": agent.pk})
    agent.refresh_from_db()
    assert agent.left_on == timezone.localdate()
    assert AuditEvent.objects.filter(action="agent.left", target_id=str(agent.pk)).exists()
    with pytest.raises(ApplicationError) as refused:
        agent_register(
            user=UserFactory(organization=broker, role="signer"), licence=broker.licence, agent_number="X-1",
            joined_on=timezone.localdate(), actor=broker_owner,
        )  # fmt: skip
    assert refused.value.code == "not_allowed"
    intruder = Client()
    sign_in(intruder, "outsider")
    page = intruder.get(reverse("agents"))
    assert page.status_code == 200 and agent.agent_number not in page.content.decode()
    assert "new.agent" not in page.content.decode()
    assert intruder.post(reverse("agents"), {"leave": agent.pk}).status_code == 404


def test_each_key_is_rate_limited_on_its_own(broker_owner, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    cache.clear()
    rates = dict(api_settings.DEFAULT_THROTTLE_RATES)
    from brokers.throttling import ApiKeyRateThrottle

    ApiKeyRateThrottle.THROTTLE_RATES = {**rates, "api": "3/min"}
    try:
        first, second = key_for(broker_owner), key_for(broker_owner)
        answers = [api(first).get(reverse("api_me")).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = api(first).get(reverse("api_me"))
        assert limited.json()["code"] == "throttled" and "Retry-After" in limited
        assert api(second).get(reverse("api_me")).status_code == 200
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = rates
        cache.clear()


def test_with_the_cache_down_the_limit_is_not_applied_rather_than_the_call_refused(
    broker_owner, settings, caplog
):
    from tests.helpers import cache_unreachable

    with cache_unreachable(settings):
        response = api(key_for(broker_owner)).get(reverse("api_me"))
    assert response.status_code == 200
    assert "rate limit not applied: the cache is unavailable" in caplog.text


def test_the_directory_pages_through_every_match_in_name_order_without_counting(client, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from brokers import views
    from tests.factories import BrokerLicenceFactory

    monkeypatch.setattr(views, "DIRECTORY_PAGE_SIZE", 2)
    names = [f"Đại lý Thử {letter}" for letter in "EDCBA"]
    for name in names:
        BrokerLicenceFactory(organization__name=name)
    seen, page_number = [], 1
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("broker_directory"), {"q": "Thử", "page": page_number})
        assert response.status_code == 200
        assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
        page = response.context["page"]
        seen += [licence.organization.name for licence in page]
        body = response.content.decode()
        assert (f"page={page_number + 1}" in body) == page.has_next()
        assert (f"page={page_number - 1}" in body) == page.has_previous()
        if not page.has_next():
            break
        page_number += 1
    assert seen == sorted(names) and page_number == 3
    # A page beyond the end, or not a number, answers (empty, or the first page).
    assert client.get(reverse("broker_directory"), {"q": "Thử", "page": 9}).context["page"].object_list == []
    assert client.get(reverse("broker_directory"), {"page": "x"}).context["page"].number == 1


def test_the_directory_search_keeps_its_names_ids_and_what_was_typed_as_text(client):
    body = client.get(reverse("broker_directory"), {"q": '"><b>x</b>', "province": "Hà Nội"}).content.decode()
    assert "<b>x</b>" not in body
    assertInHTML(
        '<input type="text" name="q" value="&quot;&gt;&lt;b&gt;x&lt;/b&gt;" maxlength="100" id="id_q">', body
    )
    assertInHTML('<input type="text" name="province" value="Hà Nội" maxlength="64" id="id_province">', body)
    empty = client.get(reverse("broker_directory")).content.decode()
    assertInHTML('<input type="text" name="q" maxlength="100" id="id_q">', empty)


@pytest.mark.parametrize(
    ("who", "offered"),
    [("trader.owner", True), ("trader.signer", False), ("broker.owner", False), (None, False)],
)
def test_the_directory_offers_a_mandate_to_a_traders_owner_only(
    client, broker, trader_owner, trader_signer, broker_owner, who, offered
):
    from tests.factories import BrokerLicenceFactory
    from tests.helpers import sign_in

    suspended = BrokerLicenceFactory(organization__name="Đại lý Tạm Ngừng", status="suspended")
    if who:
        sign_in(client, who)
    body = client.get(reverse("broker_directory")).content.decode()
    link = f'{reverse("mandate_grant")}?broker={broker.tax_code}"'
    assert (link in body) is offered
    assert f"?broker={suspended.organization.tax_code}" not in body  # only to an active licence


@pytest.mark.parametrize("status", ["", "bogus"])
def test_a_mandate_list_filtered_by_a_status_that_does_not_exist_is_refused(trader_owner, status):
    response = api(key_for(trader_owner)).get(reverse("api_authorizations") + f"?status={status}")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and list(body["fields"]) == ["status"]


def test_a_nul_character_in_a_form_field_is_refused_with_a_listed_code(trader_owner, broker):
    body = mandate_body(broker=broker.tax_code, contract_number="HĐ\x0001")
    response = api(key_for(trader_owner)).post(reverse("api_authorizations"), body)  # multipart
    assert response.status_code == 400
    assert response.json() == {
        "code": "null_characters_not_allowed",
        "detail": "The request is invalid.",
        "fields": {"contract_number": ["Null characters are not allowed."]},
    }
    assert not Authorization.objects.exists()


def test_a_body_the_operation_cannot_parse_is_415_and_the_schema_says_so(broker_owner):
    from drf_spectacular.generators import SchemaGenerator

    response = api(key_for(broker_owner)).post(
        reverse("api_operation_reports"), "declarations_filed=3", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.json() == {
        "code": "unsupported_media_type",
        "detail": 'Unsupported media type "text/plain" in request.',
        "fields": {},
    }
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [(verb, op) for item in schema["paths"].values() for verb, op in item.items()]
    writes = [op for verb, op in operations if verb in ("post", "put", "patch")]
    assert writes and all("415" in op["responses"] for op in writes)
    reads = [op for verb, op in operations if verb == "get"]
    assert reads and not any("415" in op["responses"] for op in reads)


def test_wrong_keys_from_one_address_are_limited_then_refused_unchecked(broker_owner, settings):
    from brokers.authentication import FAILED_KEYS

    settings.API_KEY_FAILURES_PER_MINUTE = 3
    secret = key_for(broker_owner)
    wrong = api("x" * 8 + "." + "y" * 32)
    with time_machine.travel("2026-12-07 09:00:05 +07:00", tick=False):
        FAILED_KEYS.reset("203.0.113.9")
        assert [wrong.get(reverse("api_me")).status_code for _ in range(3)] == [401, 401, 401]
        refused = wrong.get(reverse("api_me"))
        assert (refused.status_code, refused["Retry-After"]) == (429, "55")
        assert refused.json() == {
            "code": "too_many_failed_keys",
            "detail": "Too many invalid API keys from this address. Expected available in 55 seconds.",
            "fields": {},
        }
        # Refused unchecked: even the right key, from that address, until the minute has passed.
        assert api(secret).get(reverse("api_me")).status_code == 429
        other_address = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", REMOTE_ADDR="198.51.100.7")
        assert other_address.get(reverse("api_me")).status_code == 200
    with time_machine.travel("2026-12-07 09:02:30 +07:00", tick=False):
        assert api(secret).get(reverse("api_me")).status_code == 200


def test_a_revoked_key_still_in_a_tool_does_not_lock_out_the_offices_other_keys(broker_owner, settings):
    from brokers.authentication import FAILED_KEYS

    settings.API_KEY_FAILURES_PER_MINUTE = 3
    good = key_for(broker_owner)
    revoked_key, revoked = api_key_create(
        actor=broker_owner, holder=broker_owner, name="old tool", scopes=["read"], expires_in_days=30
    )
    api_key_revoke(key=revoked_key, actor=broker_owner)
    FAILED_KEYS.reset("203.0.113.9")
    assert [api(revoked).get(reverse("api_me")).status_code for _ in range(5)] == [401] * 5
    assert api(good).get(reverse("api_me")).status_code == 200  # a real key gone dead is not guessing


def test_a_varying_x_forwarded_for_does_not_dodge_the_anonymous_limit(client):
    """DRF's own throttle read X-Forwarded-For, which the client writes; the limit now counts the
    address audit.middleware.client_ip trusts (with no proxy configured: the peer's)."""
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    from brokers.throttling import ApiKeyRateThrottle

    cache.clear()
    rates = dict(api_settings.DEFAULT_THROTTLE_RATES)
    ApiKeyRateThrottle.THROTTLE_RATES = {**rates, "api": "3/min"}
    try:
        statuses = [
            client.get(reverse("api_brokers"), HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
            for n in range(6)
        ]
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = rates
        cache.clear()
    assert statuses == [200, 200, 200, 429, 429, 429]
