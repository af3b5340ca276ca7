from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import UserSession
from audit.models import AuditEvent
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client()
    assert sign_in(client, username).status_code == 302
    return client


def test_a_member_sees_their_sessions_and_ends_another(trader_signer):
    laptop, phone = signed_in("trader.signer"), signed_in("trader.signer")
    page = laptop.get(reverse("session_list"))
    assert len(page.context["sessions"]) == 2
    other = UserSession.objects.exclude(session_key=laptop.session.session_key).get()
    response = laptop.post(reverse("session_list"), {"session": other.pk})
    assert response.status_code == 302
    assert phone.get(reverse("profile")).status_code == 302  # signed out
    assert laptop.get(reverse("profile")).status_code == 200
    assert AuditEvent.objects.filter(action="session.ended", actor=trader_signer).count() == 1


def test_end_every_other_session_keeps_this_one(trader_signer):
    first, second, third = (signed_in("trader.signer") for _ in range(3))
    first.post(reverse("session_list"), {"scope": "others"})
    assert first.get(reverse("profile")).status_code == 200
    assert second.get(reverse("profile")).status_code == 302
    assert third.get(reverse("profile")).status_code == 302
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [first.session.session_key]


def test_another_persons_session_cannot_be_ended_or_seen(trader_signer, outsider):
    victim = signed_in("trader.signer")
    intruder = signed_in("outsider")
    victim_session = UserSession.objects.get(user=trader_signer)
    assert victim_session.pk not in [s.pk for s in intruder.get(reverse("session_list")).context["sessions"]]
    response = intruder.post(reverse("session_list"), {"session": victim_session.pk})
    assert response.status_code == 404
    assert victim.get(reverse("profile")).status_code == 200
    assert not AuditEvent.objects.filter(action="session.ended").exists()
    assert intruder.post(reverse("session_list"), {"session": "not-a-number"}).status_code == 404


def test_signing_out_forgets_the_session(trader_signer):
    client = signed_in("trader.signer")
    client.post(reverse("logout"))
    assert not UserSession.objects.exists()


def test_a_session_ended_while_its_sign_in_is_answered_signs_the_browser_out_instead_of_a_400(
    trader_signer, settings
):
    """The risk engine's worker may end a risky sign-in's sessions while that sign-in's own answer
    is being written. The answer still goes out, and the browser is signed out."""
    from importlib import import_module

    from django.contrib.auth.signals import user_logged_in

    store = import_module(settings.SESSION_ENGINE).SessionStore

    def ended_meanwhile(sender, request, user, **_kwargs):
        store(session_key=request.session.session_key).delete()

    user_logged_in.connect(ended_meanwhile, dispatch_uid="test-ended-meanwhile")
    try:
        client = Client()
        response = sign_in(client, "trader.signer")
    finally:
        user_logged_in.disconnect(dispatch_uid="test-ended-meanwhile")
    assert response.status_code == 302 and response.url == "/"
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert (cookie.value, cookie["max-age"]) == ("", 0)
    assert "Cookie" in response["Vary"]
    me = client.get(reverse("profile"))
    assert me.status_code == 302 and me.url.startswith(reverse("login"))
