"""API fuzzing with schemathesis against /api/v1/schema/ (issue "Proof under real conditions"):
for a trader's key, a broker owner's and a broker agent's, every operation answers generated
requests (valid and invalid) without a server error, as its schema says, and every error carries
a stable snake_case ``code``."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import positive_data_acceptance

from brokers.services.api_keys import api_key_create
from core.error_codes import ERROR_CODES, ERROR_STATUSES
from tests.factories import AgentStaffFactory, BrokerLicenceFactory, OrganizationFactory, UserFactory
from tests.fuzz import FUZZ_PASS, examples

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def _load_schema():
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


# Loaded at collection: schema generation touches no database (the lazy fixture loader of
# schemathesis does not work with pytest 9).
schema = _load_schema()


@schemathesis.check
def errors_have_a_stable_code(ctx: CheckContext, response, case) -> bool | None:
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} error is not JSON: {response.text[:200]!r}") from None
    assert isinstance(body, dict), "an error is a JSON object"
    assert CODE.match(str(body.get("code", ""))), f"error without a snake_case code: {body}"
    assert body["code"] in ERROR_CODES, f"the code {body['code']!r} is not documented (config/error_codes.py)"
    assert response.status_code in ERROR_STATUSES[body["code"]], (
        f"{body['code']!r} answered {response.status_code}, documented {ERROR_STATUSES[body['code']]}"
    )
    assert isinstance(body.get("detail"), str) and body["detail"], f"error without a detail: {body}"
    return None


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """schemathesis calls the WSGI app directly, not through Django's test client, so Django would
    close the test's database connection at the end of each request, as it does in production."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _key(holder, scopes):
    _key, secret = api_key_create(
        actor=holder if holder.is_manager else _owner_of(holder), holder=holder, name="fuzz", scopes=scopes
    )
    return secret


def _owner_of(user):
    return user.organization.members.get(role="owner")


@pytest.fixture
def api_keys() -> dict[str, str]:
    """A key for each kind of caller: a trader's owner, a broker's owner, a broker's agent."""
    trader_owner = UserFactory(organization=OrganizationFactory(), role="owner")
    licence = BrokerLicenceFactory()
    broker_owner = UserFactory(organization=licence.organization, role="owner")
    agent = UserFactory(organization=licence.organization, role="signer")
    AgentStaffFactory(user=agent, licence=licence)
    return {
        "trader_owner": _key(trader_owner, ["read", "manage"]),
        "broker_owner": _key(broker_owner, ["read", "manage"]),
        "broker_agent": _key(agent, ["read", "declare"]),
    }


@schema.parametrize()
# The same requests on every ordinary run; new ones from CI's random seed in the fuzz pass.
@settings(
    max_examples=examples(8),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not FUZZ_PASS,
)
def test_the_api_holds_up_to_generated_requests(case, api_keys):
    for secret in api_keys.values():
        response = case.call_and_validate(
            headers={"Authorization": f"Api-Key {secret}"},
            additional_checks=[errors_have_a_stable_code],
            # A request valid by the schema may still break a rule (a wrong tax code, no mandate):
            # the API refuses it with a code, which errors_have_a_stable_code checks instead.
            excluded_checks=[positive_data_acceptance],
        )
        # Any answer but a server error may be right for a generated request: the checks above
        # hold it to its schema and its error codes.
        assert response.status_code < 500, response.text[:200]


def test_an_unknown_api_url_answers_json_and_the_portal_keeps_its_page(client):
    response = client.get("/api/v1/declarations/not-a-number", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No such resource.", "fields": {}}
    vietnamese = client.get("/api/v1/declarations/not-a-number", HTTP_ACCEPT_LANGUAGE="vi").json()
    assert vietnamese["detail"] == "Không có tài nguyên này."
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page_size", ["0", "-1", "null", "201", "1.5", ["10", "20"]])
def test_a_malformed_page_size_is_refused_not_replaced(api_keys, client, page_size):
    response = client.get(
        "/api/v1/declarations/",
        {"page_size": page_size},
        HTTP_AUTHORIZATION=f"Api-Key {api_keys['broker_agent']}",
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_page_size"
    fine = client.get(
        "/api/v1/declarations/",
        {"page_size": "200"},
        HTTP_AUTHORIZATION=f"Api-Key {api_keys['broker_agent']}",
    )
    assert fine.status_code == 200


@pytest.mark.parametrize("page", ["", "0", "-1", "last", "1.5", ["1", "2"], ["", ""]])
def test_a_malformed_page_number_is_refused_not_read_as_the_first_page(api_keys, client, page):
    response = client.get("/api/v1/brokers/", {"page": page, "page_size": "1"},
                          HTTP_AUTHORIZATION=f"Api-Key {api_keys['broker_agent']}")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_page" and list(response.json()["fields"]) == ["page"]
    fine = client.get("/api/v1/brokers/", {"page": "1", "page_size": "1"},
                      HTTP_AUTHORIZATION=f"Api-Key {api_keys['broker_agent']}")  # fmt: skip
    assert fine.status_code == 200
