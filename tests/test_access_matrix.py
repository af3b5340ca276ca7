"""The access-control matrix (DESIGN §5 rule 6): every URL pattern the project serves is either on
the public allow-list or refuses anonymous visitors, and every URL that names an object refuses
another organisation. A new URL fails these tests until it is classified here."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import StaffInvitation
from accounts.services.staff import staff_invite
from audit.models import AuditEvent
from brokers.models import Authorization
from brokers.services.api_keys import api_key_create
from brokers.services.mandates import authorization_invite
from signatures.models import Certificate, Declaration, SignatureRecord
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

# What an anonymous visitor may reach (issue "Proof under real conditions").
PUBLIC = {
    "home", "healthz", "set_language",
    "login", "login_verify", "logout", "password_strength",  # signing in and out
    "register", "register_done", "verify_email", "invitation_accept",  # joining, by one-time link
    "signin_review",  # "was this you?": "this was not me" must work from the emailed link alone
    "broker_directory", "api_brokers",  # the public directory of licensed brokers
    "api_schema", "api_docs", "audit-public-key", "audit-public-key-pem",
}  # fmt: skip


def _patterns(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), pattern


def _placeholder_kwargs(pattern: URLPattern) -> dict:
    converters = pattern.pattern.converters
    values = {"int": 987654, "string": "not-a-real-token", "uuid": uuid.uuid4(), "slug": "x", "path": "x"}
    return {name: values[type(converter).__name__.removesuffix("Converter").lower()]
            for name, converter in converters.items()}  # fmt: skip


def _named_urls():
    seen = {}
    for route, pattern in _patterns():
        if route.startswith(("static/", "officers/")) or pattern.name in seen:
            continue  # static files; the officer console has its own test of refusal
        seen[pattern.name] = (route, pattern)
    return seen


def _anonymous_refusal(route: str, url: str) -> tuple[int, str | None]:
    """The one right answer to an anonymous visitor: the API asks for credentials, a portal page
    sends the visitor to sign in and come back."""
    if route.startswith("api/"):
        return 401, None
    return 302, f"{reverse('login')}?next={url}"


def test_anonymous_visitors_reach_only_the_public_allow_list(client):
    urls = _named_urls()
    assert set(urls) >= PUBLIC, f"allow-listed but gone: {PUBLIC - set(urls)}"
    leaks = []
    for name, (route, pattern) in sorted(urls.items()):
        if name in PUBLIC:
            continue
        url = reverse(name, kwargs=_placeholder_kwargs(pattern))
        expected = _anonymous_refusal(route, url)
        for method in (client.get, client.post):
            response = method(url)
            if (response.status_code, response.get("Location")) != expected:
                leaks.append((method.__name__, route, response.status_code, response.get("Location")))
    assert leaks == []


def test_the_public_pages_answer_without_an_account(client):
    for name in ("home", "healthz", "login", "register", "broker_directory", "api_schema", "api_docs"):
        # healthz included: the suite runs with its services up (or, on SQLite, without any).
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("verify_email", args=["forged"])).status_code == 400


# --- another organisation, URL by URL -------------------------------------------------------------


def _invitation(world):
    staff_invite(
        actor=world.trader_owner, email="moi@hoabinh.example", first_name="Lan", last_name="Trần",
        national_id_number="001203009999", role="viewer",
    )  # fmt: skip
    return StaffInvitation.objects.get(email="moi@hoabinh.example")


def _declaration(world):
    record = world.sign(world.trader_signer, world.trader_key, number="ACL-1")
    assert record.outcome == "accepted"
    return record.declaration


def _pending_mandate(world):
    return authorization_invite(
        actor=world.broker_owner, trader_tax_code=world.trader.tax_code,
        trader_registered_on=world.trader.created_at.astimezone().date(), scopes=["export"],
        representation="direct", contract_number="HĐ-ACL",
        valid_from=world.mandate.valid_from, valid_until=world.mandate.valid_until,
    )  # fmt: skip


# Every URL that names an object: how to make the object (of the cast's trader or broker), and
# what must still be true of it after the outsider's GET and POST (its row is also read back and
# compared, column by column, with the row before).
OBJECT_URLS = {
    "staff_member": (lambda w: w.trader_signer, lambda w, o: o.__class__.objects.get(pk=o.pk).is_active),
    "staff_invitation_cancel": (
        _invitation,
        lambda w, o: StaffInvitation.objects.get(pk=o.pk).status == "pending",
    ),
    "certificate_detail": (lambda w: w.trader_certificate, lambda w, o: _certificate_active(o)),
    "certificate_status_change": (lambda w: w.trader_certificate, lambda w, o: _certificate_active(o)),
    "staff_deactivate": (lambda w: w.trader_signer, lambda w, o: o.__class__.objects.get(pk=o.pk).is_active),
    "mandate_confirm": (lambda w: w.mandate, lambda w, o: _mandate_status(o) == "active"),
    "certificate_proof": (lambda w: w.trader_certificate, lambda w, o: _certificate_active(o)),
    "certificate_challenge": (lambda w: w.trader_certificate, lambda w, o: _certificate_active(o)),
    "mandate_action": (
        lambda w: w.mandate,
        lambda w, o: Authorization.objects.get(pk=o.pk).status == "active",
    ),
    "api_certificate_proof": (lambda w: w.trader_certificate, lambda w, o: _certificate_active(o)),
    "api_certificate_challenge": (lambda w: w.trader_certificate, lambda w, o: _certificate_active(o)),
    "api_certificate_custodians": (
        lambda w: w.trader_certificate,
        lambda w, o: list(o.custodians.all()) == [w.trader_signer],
    ),
    "api_declaration": (_declaration, lambda w, o: Declaration.objects.filter(pk=o.pk).exists()),
    "api_declaration_receipt": (_declaration, lambda w, o: Declaration.objects.filter(pk=o.pk).exists()),
    "api_signature_record": (
        lambda w: _declaration(w).signature,
        lambda w, o: SignatureRecord.objects.filter(pk=o.pk).exists(),
    ),
    "api_signature_record_receipt": (
        lambda w: _declaration(w).signature,
        lambda w, o: SignatureRecord.objects.filter(pk=o.pk).exists(),
    ),
    "api_authorization_accept": (_pending_mandate, lambda w, o: _mandate_status(o) == "invited"),
    "api_authorization_decline": (_pending_mandate, lambda w, o: _mandate_status(o) == "invited"),
    "api_authorization_cancel": (_pending_mandate, lambda w, o: _mandate_status(o) == "invited"),
    "api_authorization_revoke": (lambda w: w.mandate, lambda w, o: _mandate_status(o) == "active"),
    "audit-event-receipt": (
        lambda w: AuditEvent.objects.filter(organization=w.trader).order_by("pk").first(),
        lambda w, o: AuditEvent.objects.get(event_id=o.event_id).organization_id == w.trader.pk,
    ),
}
# The one right answer to the outsider's (GET, POST): 405 where the view does not serve the method
# at all (it answers before looking anything up), otherwise 404, as for an object that does not
# exist, so the answer does not even tell that the object is there.
OUTSIDER_ANSWERS = {
    "staff_member": (404, 404),
    "staff_invitation_cancel": (405, 404),
    "certificate_detail": (404, 404),
    "certificate_status_change": (404, 404),
    "staff_deactivate": (404, 404),
    "mandate_confirm": (404, 405),
    "certificate_proof": (404, 404),
    "certificate_challenge": (404, 404),
    "mandate_action": (405, 404),
    "api_certificate_proof": (405, 404),
    "api_certificate_challenge": (404, 405),
    "api_certificate_custodians": (405, 405),  # PUT only: tests/signatures/test_certificate_api.py
    "api_declaration": (404, 405),
    "api_declaration_receipt": (404, 405),
    "api_signature_record": (404, 405),
    "api_signature_record_receipt": (404, 405),
    "api_authorization_accept": (405, 404),
    "api_authorization_decline": (405, 404),
    "api_authorization_cancel": (405, 404),
    "api_authorization_revoke": (405, 404),
    "audit-event-receipt": (404, 405),
}
HOSTILE_POSTS = {
    "staff_member": {"action": "deactivate"},
    "certificate_detail": {"action": "revoke", "reason": "taken over"},
    "certificate_status_change": {"action": "revoke", "reason": "taken over"},
    "mandate_action": {"action": "revoke", "reason": "taken over"},
    "certificate_proof": {"signature": "AAAA"},
    "api_certificate_proof": {"signature": "AAAA"},
    "api_authorization_decline": {"reason": "taken over"},
    "api_authorization_revoke": {"reason": "taken over"},
}
TOKEN_URLS = {"invitation_accept", "verify_email", "signin_review"}  # public by design: the token is the key


def _certificate_active(certificate) -> bool:
    return Certificate.objects.get(pk=certificate.pk).status == "active"


def _mandate_status(mandate) -> str:
    return Authorization.objects.get(pk=mandate.pk).status


def _row(obj) -> dict:
    """The object's row as the database holds it now."""
    return type(obj).objects.filter(pk=obj.pk).values().get()


def test_every_url_naming_an_object_is_in_the_matrix():
    with_arguments = {name for name, (_route, pattern) in _named_urls().items() if pattern.pattern.converters}
    assert with_arguments - TOKEN_URLS == set(OBJECT_URLS) == set(OUTSIDER_ANSWERS)


@pytest.fixture
def outsider_api(outsider):
    _key, secret = api_key_create(actor=outsider, holder=outsider, name="outsider", scopes=["read", "manage"])
    return Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")


@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
def test_another_organisation_can_neither_read_nor_change_it(name, world, outsider, outsider_api):
    make, unchanged = OBJECT_URLS[name]
    target = make(world)
    before = _row(target)
    _route, pattern = _named_urls()[name]
    (argument,) = pattern.pattern.converters
    url = reverse(name, kwargs={argument: target.event_id if name == "audit-event-receipt" else target.pk})
    if name.startswith(("api_", "audit-")):
        visitor = outsider_api
    else:
        visitor = Client()
        sign_in(visitor, outsider.username)
    # The POST carries what the owner's own form would send, so a missing check cannot hide
    # behind a malformed request.
    answers = (visitor.get(url).status_code, visitor.post(url, HOSTILE_POSTS.get(name, {})).status_code)
    assert answers == OUTSIDER_ANSWERS[name], url
    assert _row(target) == before
    assert unchanged(world, target)
