"""TOTP second factor (django-otp): enrolment required by role, the code at sign-in, recovery
codes kept only as digests, and the code as an alternative to the password at re-authentication."""

from __future__ import annotations

import base64
import re
import time
import urllib.parse

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Notification, RecoveryCode, SignInEvent
from accounts.services.mfa import (
    mfa_disable,
    mfa_enabled,
    mfa_recovery_codes_regenerate,
    mfa_recovery_codes_remaining,
    mfa_required,
    mfa_totp_begin,
    mfa_totp_confirm,
    mfa_verify,
)
from audit.models import AuditEvent
from core.errors import ApplicationError
from tests.factories import TEST_PASSWORD, TEST_TOTP_KEY, UserFactory, totp_code
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
MFA = "/accounts/mfa/"


def password_step(client, username):
    return client.post(LOGIN, {"username": username, "password": TEST_PASSWORD})


def code_for(device: TOTPDevice) -> str:
    return totp_code(device.key)


def test_an_owner_without_an_authenticator_must_set_one_up_first(trader):
    owner = UserFactory(organization=trader, role="owner", username="new.owner", authenticator=False)
    client = Client()
    assert password_step(client, "new.owner").status_code == 302
    assert client.get(reverse("profile")).url == reverse("mfa")
    assert client.get(reverse("signin_history")).url == reverse("mfa")
    # Setting it up: the page draws the QR code itself, with no address outside the site.
    page = client.post(MFA, {"action": "begin"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    assert "http://" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    wrong = client.post(MFA, {"action": "confirm", "code": "000000"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()
    done = client.post(MFA, {"action": "confirm", "code": code_for(device)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", done.content.decode())
    assert len(codes) == 10
    assert client.get(reverse("profile")).status_code == 200
    assert AuditEvent.objects.filter(action="mfa.changed", target_id=str(owner.pk)).count() == 1
    assert Notification.objects.filter(user=owner, kind="mfa_enabled").exists()
    # Only keyed digests are stored: no code appears in the database.
    stored = list(RecoveryCode.objects.filter(device__user=owner).values_list("digest", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert all(code.replace("-", "") not in digest for code in codes for digest in stored)


def test_a_signer_need_not_set_one_up_unless_the_setting_says_so(client, trader_signer, settings):
    assert password_step(client, "trader.signer").status_code == 302
    assert client.get(reverse("profile")).status_code == 200
    settings.MFA_REQUIRED_ROLES = ["owner", "signer"]
    assert client.get(reverse("profile")).url == reverse("mfa")


def test_the_apis_session_calls_get_a_json_403_until_an_authenticator_is_set_up(
    client, trader_signer, settings
):
    settings.MFA_REQUIRED_ROLES = ["owner", "signer"]
    client.force_login(trader_signer)
    response = client.get("/api/v1/declarations/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response.json() == {
        "code": "mfa_required",
        "detail": "Set up your authenticator in the portal first.",
        "fields": {},
    }
    settings.MFA_REQUIRED_ROLES = ["owner"]
    assert client.get("/api/v1/declarations/").status_code == 200


def test_sign_in_asks_for_the_code_after_the_password(client, trader_owner):
    response = password_step(client, "trader.owner")
    assert response.url == reverse("login_verify")
    # Not signed in yet: the password alone gives nothing.
    assert client.get(reverse("profile")).status_code == 302
    assert not SignInEvent.objects.filter(outcome="succeeded").exists()
    response = client.post(reverse("login_verify"), {"code": totp_code()})
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200
    assert SignInEvent.objects.filter(user=trader_owner, outcome="succeeded").count() == 1


def test_a_wrong_code_is_a_failed_sign_in_and_five_send_you_back(client, trader_owner):
    password_step(client, "trader.owner")
    for _ in range(4):
        response = client.post(reverse("login_verify"), {"code": "123456"})
        assert response.status_code == 400
    response = client.post(reverse("login_verify"), {"code": "123456"})
    assert response.url == reverse("login")
    assert client.get(reverse("login_verify")).url == reverse("login")
    failures = SignInEvent.objects.filter(user=trader_owner, outcome="failed", factor="second_factor")
    assert failures.count() == 5
    assert client.get(reverse("profile")).status_code == 302


def test_the_pending_password_step_expires(client, trader_owner, settings):
    password_step(client, "trader.owner")
    session = client.session
    pending = session["accounts.mfa_pending"]
    pending["at"] = time.time() - 301
    session["accounts.mfa_pending"] = pending
    session.save()
    assert client.post(reverse("login_verify"), {"code": totp_code()}).url == reverse("login")
    assert client.get(reverse("profile")).status_code == 302


def test_a_code_works_once(trader_owner):
    first, second = Client(), Client()
    code = totp_code()
    password_step(first, "trader.owner")
    assert first.post(reverse("login_verify"), {"code": code}).status_code == 302
    password_step(second, "trader.owner")
    assert second.post(reverse("login_verify"), {"code": code}).status_code == 400


def test_a_recovery_code_signs_in_once_and_is_told(trader_owner, django_capture_on_commit_callbacks):
    codes = mfa_recovery_codes_regenerate(user=trader_owner)
    client = Client()
    password_step(client, "trader.owner")
    assert client.post(reverse("login_verify"), {"code": codes[0].lower()}).status_code == 302
    assert Notification.objects.filter(user=trader_owner, kind="recovery_code_used").count() == 1
    other = Client()
    password_step(other, "trader.owner")
    assert other.post(reverse("login_verify"), {"code": codes[0]}).status_code == 400
    assert mfa_recovery_codes_remaining(trader_owner) == 9


def test_new_recovery_codes_void_the_old_ones(trader_owner):
    old = mfa_recovery_codes_regenerate(user=trader_owner)
    new = mfa_recovery_codes_regenerate(user=trader_owner)
    assert mfa_verify(user=trader_owner, token=old[0]) is None
    # A failure slows the next try down (django-otp's throttling), so wait it out.
    with time_machine.travel(time.time() + 5):
        assert mfa_verify(user=trader_owner, token=new[0]) is not None


def test_a_required_role_cannot_turn_it_off_but_others_can(trader_owner, trader_signer):
    with pytest.raises(ApplicationError) as refused:
        mfa_disable(user=trader_owner, actor=trader_owner)
    assert refused.value.code == "mfa_required"
    assert mfa_enabled(trader_owner)
    TOTPDevice.objects.create(user=trader_signer, key=TEST_TOTP_KEY, confirmed=True)
    mfa_disable(user=trader_signer, actor=trader_signer)
    assert not mfa_enabled(trader_signer)
    assert Notification.objects.filter(user=trader_signer, kind="mfa_disabled").exists()


def test_replacing_the_authenticator_keeps_the_old_one_until_the_new_one_is_confirmed(trader_owner):
    device = mfa_totp_begin(user=trader_owner)
    assert mfa_verify(user=trader_owner, token=totp_code()) is not None  # the old one still works
    mfa_totp_confirm(user=trader_owner, device=device, token=code_for(device))
    assert list(TOTPDevice.objects.filter(user=trader_owner, confirmed=True)) == [device]


def test_reauthentication_accepts_a_code_instead_of_the_password(client, trader_owner, settings):
    assert sign_in(client, "trader.owner").status_code == 302
    session = client.session
    session["accounts.reauthenticated_at"] = time.time() - settings.REAUTH_SECONDS - 1
    session.save()
    assert client.get(reverse("contact_edit")).status_code == 302
    TOTPDevice.objects.filter(user=trader_owner).update(last_t=-1)
    bad = client.post(reverse("reauthenticate"), {"code": "999999", "next": reverse("contact_edit")})
    assert bad.status_code == 400
    TOTPDevice.objects.filter(user=trader_owner).update(throttling_failure_count=0)
    good = client.post(reverse("reauthenticate"), {"code": totp_code(), "next": reverse("contact_edit")})
    assert good.url == reverse("contact_edit")
    assert client.get(reverse("contact_edit")).status_code == 200


def test_officers_always_need_a_second_factor(officer, settings):
    settings.MFA_REQUIRED_ROLES = []
    assert mfa_required(officer)
    client = Client()
    assert password_step(client, "officer").url == reverse("login_verify")


def test_an_unknown_role_in_the_setting_stops_start_up(monkeypatch):
    import importlib

    import config.settings

    monkeypatch.setenv("MFA_REQUIRED_ROLES", "owner,superhero")
    monkeypatch.setenv("DEBUG", "true")
    with pytest.raises(ImproperlyConfigured, match="MFA_REQUIRED_ROLES"):
        importlib.reload(config.settings)
    monkeypatch.delenv("MFA_REQUIRED_ROLES")
    importlib.reload(config.settings)


def test_a_session_the_authenticator_verified_is_not_asked_again_and_costs_no_extra_query(
    client, trader_owner
):
    assert sign_in(client, "trader.owner").status_code == 302
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("profile")).status_code == 200
    device_reads = [q["sql"] for q in queries.captured_queries if "otp_totp_totpdevice" in q["sql"]]
    assert len(device_reads) == 1, "only django_otp's load of the session's device"
    # The authenticator removed behind the session's back: the device is gone, and so is the pass.
    TOTPDevice.objects.filter(user=trader_owner).delete()
    response = client.get(reverse("profile"))
    assert response.status_code == 302 and response.url == MFA


def test_the_key_is_shown_in_groups_of_four_and_the_codes_can_be_kept(trader):
    owner = UserFactory(organization=trader, role="owner", username="new.owner", authenticator=False)
    client = Client()
    assert password_step(client, "new.owner").status_code == 302
    html = client.post(MFA, {"action": "begin"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    key = base64.b32encode(device.bin_key).decode()
    shown = re.search(r'<code class="secret key-groups">([A-Z2-7 ]+)</code>', html).group(1)
    assert shown.split(" ") == [key[i : i + 4] for i in range(0, len(key), 4)]
    assert all(len(group) == 4 for group in shown.split(" ")[:-1])
    done = client.post(MFA, {"action": "confirm", "code": code_for(device)}, HTTP_ACCEPT_LANGUAGE="en")
    html = done.content.decode()
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", html)
    # A text file of the very codes on the page, downloaded from the page itself (nothing kept).
    link = re.search(
        r'href="data:text/plain;charset=utf-8,([^"]+)" download="recovery-codes-newowner.txt"', html
    )
    text = urllib.parse.unquote(link.group(1))
    assert [
        line for line in text.splitlines() if re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){2}", line)
    ] == codes
    assert "Recovery codes of new.owner" in text
    # Printable: a script file (no inline script) and a print stylesheet that hides the rest.
    assert 'src="/static/accounts/print.js"' in html and "<script>" not in html
    css = (settings.BASE_DIR / "config" / "static" / "portal" / "portal.css").read_text()
    assert "@media print" in css and ".no-print" in css.split("@media print", 1)[1]
