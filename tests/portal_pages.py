"""Every page of the portal, found in the URL conf, with the objects its URL names and a cast
that has lived a while, so lists are not empty: for the tests that read each page as a member
would (in Vietnamese, on a phone)."""

from __future__ import annotations

import datetime

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import StaffInvitation
from accounts.services.staff import staff_invite
from brokers.models import Authorization
from brokers.services.api_keys import api_key_create
from brokers.services.mandates import (
    authorization_accept,
    authorization_grant,
    authorization_invite,
    authorization_revoke,
)
from signatures.services.notices import declarations_notice

# Not portal pages: the API, the officers' console (its own test), machine answers, and actions
# that only answer a POST or a script.
SKIPPED_PREFIXES = ("api/", "officers/", "static/")
SKIPPED_NAMES = {"healthz", "set_language", "logout", "password_strength", "certificate_challenge"}


def portal_routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield prefix + str(pattern.pattern), pattern

    seen = {}
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or pattern.name in SKIPPED_NAMES:
            continue
        seen.setdefault(pattern.name, pattern)
    return seen


def lived_in(world):
    """The cast after some weeks of work: accepted and refused signatures and their notices,
    mandates proposed, revoked and in force, a pending staff invitation, an API key."""
    world.sign(world.trader_signer, world.trader_key)
    world.sign(world.broker_agent, world.broker_key)
    world.sign(world.trader_signer, world.trader_key, tamper=True)  # signature_digest_mismatch
    world.sign(world.broker_agent, world.trader_key)  # certificate_foreign_use, flagged
    declarations_notice(now=timezone.now())
    today = timezone.localdate()
    transit = authorization_grant(
        actor=world.trader_owner, broker=world.broker, scopes=["transit"], representation="indirect",
        contract_number="HĐ-02", valid_from=today, valid_until=today + datetime.timedelta(days=30),
    )  # fmt: skip
    authorization_accept(mandate=transit, actor=world.broker_owner)
    authorization_revoke(mandate=transit, actor=world.trader_owner, reason="Hết hợp đồng")
    authorization_invite(
        actor=world.broker_owner, trader_tax_code=world.trader.tax_code,
        trader_registered_on=world.trader.created_at.astimezone().date(), scopes=["export"],
        representation="direct", contract_number="HĐ-03",
        valid_from=today + datetime.timedelta(days=10), valid_until=today + datetime.timedelta(days=60),
    )  # fmt: skip
    staff_invite(
        actor=world.trader_owner, email="lan.tran@hoabinh.example", first_name="Lan", last_name="Trần Thị",
        national_id_number="001203004567", role="declarant",
    )  # fmt: skip
    api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="Phần mềm khai báo", scopes=["read"]
    )
    assert Authorization.objects.filter(status="revoked").exists()


def url_arguments(world, member):
    """The object each URL names, as this member would reach it from their own pages."""
    own_certificate = (
        world.trader_certificate if member.organization_id == world.trader.pk else world.broker_certificate
    )
    colleague = world.trader_signer if member.organization_id == world.trader.pk else world.broker_agent
    return {
        "staff_member": {"pk": colleague.pk},
        "staff_invitation_cancel": {"pk": StaffInvitation.objects.get().pk},
        "certificate_detail": {"pk": own_certificate.pk},
        "certificate_proof": {"pk": own_certificate.pk},
        "certificate_status_change": {"pk": own_certificate.pk},
        "staff_deactivate": {"pk": colleague.pk},
        "mandate_action": {"pk": world.mandate.pk},
        "mandate_confirm": {"pk": world.mandate.pk},
        "invitation_accept": {"token": "het-han"},
        "verify_email": {"token": "het-han"},
        "signin_review": {"token": "het-han"},
    }


# Confirmation pages ask which action they confirm.
CONFIRMATION_QUERIES = {"certificate_status_change": "?action=suspend", "mandate_confirm": "?action=revoke"}


def portal_urls(world, member) -> list[tuple[str, str]]:
    """``(name, url)`` of every portal page, with ``member``'s own objects in the URLs."""
    arguments = url_arguments(world, member)
    return [
        (
            name,
            reverse(name, kwargs=arguments.get(name) if pattern.pattern.converters else None)
            + CONFIRMATION_QUERIES.get(name, ""),
        )
        for name, pattern in sorted(portal_routes().items())
    ]
