"""No page of one enterprise shows another's people, history, sessions or notifications: each
accounts page, visited by the owner of another enterprise, and by nobody."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import UserSession
from accounts.services.notifications import notification_send
from accounts.services.staff import staff_invite
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

PRIVATE_PAGES = [
    "profile", "signin_history", "session_list", "notifications", "staff", "staff_invite", "mfa",
    "contact_edit", "password_change",
]  # fmt: skip


@pytest.fixture
def our_traces(trader_owner, trader_signer):
    """Sign-ins, a session, a notification and an invitation of the trader's people."""
    for username in ("trader.owner", "trader.signer"):
        assert sign_in(Client(HTTP_USER_AGENT="Firefox/140"), username).status_code == 302
    notification_send(user=trader_signer, kind="password_changed", email=False)
    staff_invite(
        actor=trader_owner, email="secret.hire@example.test", first_name="Bí", last_name="Mật",
        national_id_number="001203004567", role="viewer",
    )  # fmt: skip
    return [trader_signer.username, trader_owner.username, "secret.hire@example.test", "001203004567"]


@pytest.mark.parametrize("name", PRIVATE_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert (response.status_code, response.url) == (302, f"{reverse('login')}?next={reverse(name)}")


@pytest.mark.parametrize("name", PRIVATE_PAGES)
@pytest.mark.parametrize("scope", ["", "?scope=organization"])
def test_an_outsider_sees_nothing_of_ours(client, outsider, our_traces, name, scope):
    assert sign_in(client, "outsider").status_code == 302
    response = client.get(reverse(name) + scope)
    # Each page answers the outsider with the outsider's own page, never a redirect whose empty
    # body would pass the check below by saying nothing.
    assert response.status_code == 200
    assert response.wsgi_request.user == outsider
    html = response.content.decode()
    assert reverse("logout") in html  # the whole signed-in page was rendered
    for trace in our_traces:
        assert trace not in html


@pytest.mark.parametrize(
    ("name", "scope", "shown"),
    [
        ("staff", "", ["trader.signer", "trader.owner", "secret.hire@example.test"]),
        ("signin_history", "?scope=organization", ["trader.signer", "trader.owner"]),
    ],
)
def test_the_traces_are_what_our_own_pages_show(client, our_traces, name, scope, shown):
    """The check above can fail: to our own owner, the same pages show the traces it looks for."""
    assert sign_in(client, "trader.owner").status_code == 302
    html = client.get(reverse(name) + scope).content.decode()
    assert [trace for trace in our_traces if trace in html] == shown


def test_object_urls_of_ours_are_not_found_for_an_outsider(client, outsider, our_traces, trader_signer):
    sign_in(client, "outsider")
    session = UserSession.objects.filter(user=trader_signer).first()
    assert client.post(reverse("session_list"), {"session": session.pk}).status_code == 404
    assert client.get(reverse("staff_member", args=[trader_signer.pk])).status_code == 404
    invitation_pk = trader_signer.organization.invitations.get().pk
    assert client.post(reverse("staff_invitation_cancel", args=[invitation_pk])).status_code == 404
