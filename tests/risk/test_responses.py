"""Automatic responses by severity (RISK_RESPONSES): each one audited and told to the user."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Notification, User, UserSession
from accounts.notices import notification_text
from audit.models import AuditEvent
from risk.services.evaluation import signin_evaluate
from tests.factories import TEST_PASSWORD, TEST_TOTP_KEY, totp_code
from tests.helpers import sign_in
from tests.risk.conftest import record

pytestmark = pytest.mark.django_db


def responses_recorded() -> list[str]:
    return sorted(e.data["response"] for e in AuditEvent.objects.filter(action="risk.response"))


@pytest.fixture
def respond(settings):
    def configure(**by_severity):
        settings.RISK_RESPONSES = {"low": [], "medium": [], "high": [], **by_severity}

    return configure


def test_step_up_sends_every_session_to_prove_itself_again(respond, risky_signin, trader_signer):
    respond(high=["step_up"])
    session = Client()
    assert sign_in(session, "trader.signer").status_code == 302
    signin_evaluate(event_id=risky_signin.pk)
    response = session.get("/accounts/me/")
    assert response.status_code == 302 and response.url.startswith("/accounts/step-up/")
    assert session.post("/accounts/step-up/", {"password": "not my password at all"}).status_code == 400
    proved = session.post("/accounts/step-up/", {"password": TEST_PASSWORD, "next": "/accounts/me/"})
    assert (proved.status_code, proved.url) == (302, "/accounts/me/")
    assert session.get("/accounts/me/").status_code == 200
    assert responses_recorded() == ["step_up"]
    # The protection is told in the sign-in's one notice, beside its question.
    notice = Notification.objects.get(user=trader_signer, params__signin=risky_signin.pk)
    assert notice.kind == "signin_review"
    with translation.override("en"):
        assert "confirm it is you" in notification_text(notice)


def test_the_apis_session_calls_get_a_json_403_while_a_step_up_is_due(respond, risky_signin, trader_signer):
    respond(high=["step_up"])
    session = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert sign_in(session, "trader.signer").status_code == 302
    signin_evaluate(event_id=risky_signin.pk)
    response = session.get("/api/v1/declarations/")
    assert response.status_code == 403
    assert response.json() == {
        "code": "step_up_required",
        "detail": "Confirm it is you in the portal first: a sign-in to this account looked unusual.",
        "fields": {},
    }
    proved = session.post("/accounts/step-up/", {"password": TEST_PASSWORD, "next": "/accounts/me/"})
    assert proved.status_code == 302
    assert session.get("/api/v1/declarations/").status_code == 200


def test_an_account_with_an_authenticator_steps_up_with_a_code_not_the_password(
    respond, trader_owner, broker_used_device_yesterday
):
    respond(high=["step_up"])
    session = Client()
    assert sign_in(session, "trader.owner").status_code == 302
    record(trader_owner, ago=datetime.timedelta(days=3))
    risky = record(trader_owner, evaluated=False, device_id=broker_used_device_yesterday.device_id)
    signin_evaluate(event_id=risky.pk)
    page = session.get("/accounts/step-up/")
    assert b'name="password"' not in page.content and b'name="code"' in page.content
    assert session.post("/accounts/step-up/", {"password": TEST_PASSWORD}).status_code == 400
    TOTPDevice.objects.filter(user=trader_owner, key=TEST_TOTP_KEY).update(
        last_t=-1, throttling_failure_count=0
    )
    assert session.post("/accounts/step-up/", {"code": totp_code()}).status_code == 302
    assert session.get("/accounts/me/").status_code == 200


def test_step_up_leaves_other_accounts_alone(respond, risky_signin, trader_owner):
    respond(high=["step_up"])
    owner = Client()
    assert sign_in(owner, "trader.owner").status_code == 302
    signin_evaluate(event_id=risky_signin.pk)
    assert owner.get("/accounts/me/").status_code == 200


def test_end_sessions(respond, risky_signin, trader_signer):
    respond(high=["end_sessions"])
    session = Client()
    assert sign_in(session, "trader.signer").status_code == 302
    signin_evaluate(event_id=risky_signin.pk)
    assert not UserSession.objects.filter(user=trader_signer).exists()
    assert session.get("/accounts/me/").status_code == 302
    [event] = AuditEvent.objects.filter(action="risk.response")
    assert event.data == {
        "response": "end_sessions",
        "severity": "high",
        "signin": str(risky_signin.pk),
        "sessions": 1,
    }


def test_lock_account(respond, risky_signin, trader_signer):
    respond(high=["lock_account"])
    signin_evaluate(event_id=risky_signin.pk)
    trader_signer.refresh_from_db()
    assert (trader_signer.suspended_at is not None, trader_signer.suspension_reason) == (True, "risk")
    assert sign_in(Client(), "trader.signer").status_code == 200  # refused like any wrong password
    assert responses_recorded() == ["lock_account"]


def test_suspend_certificates_goes_through_signatures(respond, risky_signin, signer_certificate):
    respond(high=["suspend_certificates"])
    signin_evaluate(event_id=risky_signin.pk)
    signer_certificate.refresh_from_db()
    assert (signer_certificate.status, signer_certificate.suspended_by) == ("suspended", "system")
    [event] = AuditEvent.objects.filter(action="risk.response")
    assert event.data["certificates"] == 1


def test_only_the_events_own_severity_responds(respond, trader_signer):
    respond(high=["lock_account"], low=[])
    record(trader_signer, ago=datetime.timedelta(days=1))
    low = record(trader_signer, evaluated=False, device_id="another-device")
    signin_evaluate(event_id=low.pk)
    assert responses_recorded() == []
    assert not Notification.objects.filter(kind="risk_response").exists()
    assert User.objects.get(pk=trader_signer.pk).suspended_at is None


def test_an_unknown_response_in_the_environment_stops_start_up(monkeypatch):
    import importlib

    from config import env
    from config import settings as config_settings

    monkeypatch.setenv("RISK_RESPONSES_HIGH", "end_sessions,format_disk")
    with pytest.raises(env.SettingsError, match="format_disk"):
        importlib.reload(config_settings)
    monkeypatch.delenv("RISK_RESPONSES_HIGH")
    importlib.reload(config_settings)


def test_the_history_page_shows_the_score_and_reasons(risky_signin, trader_signer):
    signin_evaluate(event_id=risky_signin.pk)
    User.objects.filter(pk=trader_signer.pk).update(step_up_required_at=None)
    client = Client()
    assert sign_in(client, "trader.signer").status_code == 302
    User.objects.filter(pk=trader_signer.pk).update(step_up_required_at=None)
    page = client.get("/accounts/sign-ins/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    risky_signin.refresh_from_db()
    assert f"{risky_signin.risk_score}/100" in page
    assert "people of another enterprise" in page and "not yet evaluated" in page
