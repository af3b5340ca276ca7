from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organization, User
from brokers.models import AgentStaff, BrokerLicence
from config.management.commands.seed_demo import DEMO_TOTP_KEY_BASE32, DEMO_TOTP_KEY_HEX, PEOPLE
from tests.factories import totp_code


def _seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_creates_the_cast_and_prints_working_sign_ins(client, settings):
    settings.DEBUG = True
    output = _seed()
    assert Organization.objects.filter(kind="trader").count() == 1
    assert BrokerLicence.objects.get().status == BrokerLicence.Status.ACTIVE
    assert AgentStaff.objects.get().user.username == "saomai.agent"
    assert User.objects.get(username="officer.demo").organization is None
    for username, _role, _org, _first, _last, password, _agent in PEOPLE:
        assert username in output and password in output
        # Through the sign-in page, as a person would (and as the lock-out requires).
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, username
        if response.url == "/accounts/login/verify/":  # owners and the officer: the published key
            assert DEMO_TOTP_KEY_BASE32 in output
            code = totp_code(DEMO_TOTP_KEY_HEX)
            TOTPDevice.objects.filter(user__username=username).update(last_t=-1)
            response = client.post("/accounts/login/verify/", {"code": code})
            assert response.status_code == 302, username
        assert client.get("/accounts/me/").status_code == 200, username
        client.logout()


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_keeps_changed_passwords(settings):
    settings.DEBUG = True
    _seed()
    owner = User.objects.get(username="hoabinh.owner")
    owner.set_password("a-password-the-owner-chose-99")
    owner.save()
    _seed()
    assert User.objects.count() == len(PEOPLE)
    assert Organization.objects.count() == 2
    owner.refresh_from_db()
    assert owner.check_password("a-password-the-owner-chose-99")
    _seed(reset_passwords=True)
    owner.refresh_from_db()
    assert owner.check_password(PEOPLE[0][5])


@pytest.mark.django_db
def test_seed_demo_refuses_production_without_an_explicit_flag(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refusing with DEBUG off"):
        _seed()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_gives_the_officer_console_something_to_show(settings):
    from django.test import Client

    from audit.models import Flag

    settings.DEBUG = True
    _seed()
    _seed()  # idempotent: the demo flags are not raised twice
    officer = User.objects.get(username="officer.demo")
    assert officer.has_perm("brokers.change_brokerlicence") and officer.has_perm("audit.change_case")
    assert Flag.objects.count() == 2
    trader = Organization.objects.get(kind="trader")
    assert trader.compliance_level == "moderate" and trader.suggested_channel == "yellow"
    password = next(p[5] for p in PEOPLE if p[0] == "officer.demo")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/officers/login/", {"username": "officer.demo", "password": password})
    assert response.status_code == 302 and response.url == "/officers/login/verify/"
    response = client.post("/officers/login/verify/", {"code": totp_code(DEMO_TOTP_KEY_HEX)})
    assert response.status_code == 302
    page = client.get("/officers/")
    assert page.status_code == 200
    flags = next(p for p in page.context["panels"] if p.key == "flags")
    assert {row[1] for row in flags.rows} == {
        "Device or network used by another enterprise",
        "Certificate used outside its enterprise",
    }
