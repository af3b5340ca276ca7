"""Suspending or revoking a certificate from the portal: a page that says what will happen and asks
for the reason (GET changes nothing), then the POST; suspend and revoke look different."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from signatures.models import Certificate
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert sign_in(client, user.username).status_code == 302
    return client


def page_url(certificate, action) -> str:
    return f"{reverse('certificate_status_change', args=[certificate.pk])}?action={action}"


def status_of(certificate) -> str:
    return Certificate.objects.get(pk=certificate.pk).status


def test_the_certificate_page_shows_suspend_and_revoke_apart(world, trader_owner):
    html = client_of(trader_owner).get(reverse("certificate_detail", args=[world.trader_certificate.pk]))
    html = html.content.decode().replace("&amp;", "&")
    assert (
        f'<a class="button warning" href="{page_url(world.trader_certificate, "suspend")}">Suspend</a>'
        in html
    )
    assert (
        f'<a class="button danger" href="{page_url(world.trader_certificate, "revoke")}">Revoke</a>' in html
    )


@pytest.mark.parametrize(
    ("action", "words", "button", "after"),
    [
        ("suspend", "You can reinstate it later", '<button type="submit" class="warning">', "suspended"),
        ("revoke", "This is final", '<button type="submit" class="danger">', "revoked"),
    ],
)
def test_the_page_says_what_happens_and_the_post_does_it(world, trader_owner, action, words, button, after):
    owner = client_of(trader_owner)
    certificate = world.trader_certificate
    page = owner.get(page_url(certificate, action))
    html = page.content.decode()
    assert page.status_code == 200
    assert words in html and button in html and certificate.serial_number in html
    assert status_of(certificate) == "active"  # the page changes nothing
    url = reverse("certificate_status_change", args=[certificate.pk])
    # The reason is required: the page comes back with its summary, and nothing changes.
    refused = owner.post(url, {"action": action, "reason": ""})
    assert refused.status_code == 400
    assert '<a href="#id_reason">' in refused.content.decode()
    assert status_of(certificate) == "active"
    done = owner.post(url, {"action": action, "reason": "token lost"})
    assert done.url == reverse("certificate_detail", args=[certificate.pk])
    assert status_of(certificate) == after
    assert Certificate.objects.get(pk=certificate.pk).status_reason == "token lost"
    assert AuditEvent.objects.filter(action=f"certificate.{after}", actor=trader_owner).count() == 1


def test_only_the_changes_the_state_allows_have_a_page(world, trader_owner):
    owner = client_of(trader_owner)
    certificate = world.trader_certificate
    Certificate.objects.filter(pk=certificate.pk).update(status="suspended", suspended_by="owner")
    assert owner.get(page_url(certificate, "suspend")).status_code == 404
    assert owner.get(page_url(certificate, "revoke")).status_code == 200
    assert owner.get(page_url(certificate, "destroy")).status_code == 404
    Certificate.objects.filter(pk=certificate.pk).update(status="revoked")
    assert owner.get(page_url(certificate, "revoke")).status_code == 404


def test_a_signer_and_another_enterprise_cannot_change_it(world, trader_signer, outsider):
    certificate = world.trader_certificate
    for person in (trader_signer, outsider):
        client = client_of(person)
        assert client.get(page_url(certificate, "revoke")).status_code == 404
        url = reverse("certificate_status_change", args=[certificate.pk])
        assert client.post(url, {"action": "revoke", "reason": "taken"}).status_code == 404
    assert status_of(certificate) == "active"
