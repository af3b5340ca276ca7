"""Who reaches the officer console: officers signed in there with their second factor, nobody else."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver

from accounts.models import SignInEvent
from audit.models import Action, AuditEvent, Flag
from officers.permissions import OFFICER_GROUPS
from officers.services.cases import case_note_add, case_open
from officers.site import officer_site
from tests.factories import OfficerFactory
from tests.helpers import sign_in
from tests.officers.helpers import CONSOLE_LOGIN, CONSOLE_VERIFY, console_sign_in, officer_in

pytestmark = pytest.mark.django_db

OPEN_PAGES = {"login/", "login/verify/", "logout/"}


def _concrete(route: str) -> str:
    route = re.sub(r"<uuid:\w+>", "00000000-0000-4000-8000-000000000001", route)
    route = re.sub(r"<slug:\w+>", "signins", route)
    return re.sub(r"<(?:\w+:)?\w+>", "1", route)


def console_urls() -> list[str]:
    """Every page of the console, from its URL patterns (so a page added later is tried too)."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if route.startswith("^"):
                continue  # the app index regex: tried below with real app labels
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                found.append(prefix + _concrete(route))

    walk(officer_site.urls[0], "")
    found += [f"{label}/" for label in ("audit", "accounts", "brokers", "signatures")]
    return sorted({f"/officers/{url}" for url in found if url not in OPEN_PAGES})


def test_the_url_list_covers_every_model_and_page():
    urls = console_urls()
    assert "/officers/" in urls
    assert "/officers/brokers/brokerlicence/" in urls
    assert "/officers/audit/flag/1/change/" in urls
    assert len(urls) > 60


def _to_console_sign_in(url: str) -> tuple[int, str]:
    """The one right refusal: to the console's own sign-in page, and back to ``url`` after it."""
    return 302, f"{CONSOLE_LOGIN}?next={quote(url, safe='/')}"


def _refused(client: Client, url: str) -> bool:
    response = client.get(url)
    return (response.status_code, response.get("Location")) == _to_console_sign_in(url)


@pytest.fixture
def a_flag(trader):
    # Something to be refused: a real row behind the "change" pages of pk 1 or later.
    return Flag.objects.create(
        kind="test", severity="high", organization=trader, explanation="x",
        first_seen_at="2026-11-01T00:00Z", last_seen_at="2026-11-01T00:00Z",
    )  # fmt: skip


@pytest.mark.parametrize("who", ["anonymous", "trader_owner", "broker_owner", "broker_agent"])
def test_non_officers_are_refused_everywhere(who, request, a_flag):
    client = Client()
    if who != "anonymous":
        user = request.getfixturevalue(who)
        assert sign_in(client, user.username).status_code == 302
    refused = [url for url in console_urls() if not _refused(client, url)]
    assert refused == []


def test_a_non_officer_with_the_right_password_is_told_the_same_as_a_wrong_one(trader_owner):
    client = Client()
    response = client.post(CONSOLE_LOGIN, {"username": trader_owner.username, "password": "x" * 20})
    wrong = response.context["form"].non_field_errors()
    response = console_sign_in(client, trader_owner.username)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == wrong
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == ["invalid_login"]
    event = SignInEvent.objects.filter(user=trader_owner).latest("id")
    assert (event.channel, event.outcome) == ("officers", "failed")


def test_an_officer_signed_in_at_the_portal_is_refused_by_the_console(db):
    officer = officer_in("administrator")
    client = Client()
    assert sign_in(client, officer.username).status_code == 302
    assert _refused(client, "/officers/")
    assert _refused(client, "/officers/audit/flag/")


def test_an_officer_needs_the_code_after_the_password(db):
    officer = officer_in("viewer")
    client = Client()
    response = client.post(CONSOLE_LOGIN, {"username": officer.username, "password": "x"})
    assert response.status_code == 400
    from tests.factories import TEST_PASSWORD

    response = client.post(CONSOLE_LOGIN, {"username": officer.username, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response.url == CONSOLE_VERIFY
    assert _refused(client, "/officers/")  # the password alone does not open the console
    response = client.post(CONSOLE_VERIFY, {"code": "000000"})
    assert response.status_code == 400
    assert response.context["form"].errors["code"]
    failed = SignInEvent.objects.filter(user=officer, outcome="failed").latest("id")
    assert (failed.channel, failed.factor) == ("officers", "second_factor")


def test_an_officer_without_an_authenticator_cannot_sign_in(db):
    officer = OfficerFactory(authenticator=False)
    response = console_sign_in(Client(), officer.username)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not SignInEvent.objects.filter(user=officer, outcome="succeeded").exists()


def test_a_console_sign_in_is_recorded_on_the_officers_channel(console):
    client = console("viewer")
    event = SignInEvent.objects.filter(user=client.officer, outcome="succeeded").get()
    assert event.channel == "officers"
    audit = AuditEvent.objects.filter(action=Action.SIGNIN_SUCCEEDED, actor=client.officer).get()
    assert audit.channel == "officers"
    assert client.get("/officers/").status_code == 200


def test_a_suspended_officer_loses_the_console(console):
    client = console("viewer")
    client.officer.suspended_at = "2026-11-01T00:00Z"
    client.officer.save(update_fields=["suspended_at"])
    assert _refused(client, "/officers/")


def test_the_console_password_page_is_the_portals(console):
    client = console("viewer")
    response = client.get("/officers/password_change/")
    assert response.status_code == 302 and response.url == "/accounts/password/"


def test_groups_are_created_with_their_permissions(db):
    from django.contrib.auth.models import Group

    from officers.services.groups import officer_groups_sync

    counts = officer_groups_sync()
    assert set(counts) == {f"officer {name}" for name in OFFICER_GROUPS}
    viewer = Group.objects.get(name="officer viewer")
    assert (
        not viewer.permissions.exclude(codename__startswith="view_")
        .exclude(codename="search_signatures")
        .exists()
    )
    assert not Group.objects.filter(permissions__codename__startswith="delete_").exists()


MATRIX = {
    # permission: the groups that have it
    "audit.view_dashboard": {"viewer", "investigator", "registrar", "administrator"},
    "audit.search_signatures": {"viewer", "investigator", "registrar", "administrator"},
    "audit.view_flag": {"viewer", "investigator", "registrar", "administrator"},
    "audit.change_flag": {"investigator", "administrator"},
    "audit.add_case": {"investigator", "administrator"},
    "audit.classify_enterprise": {"investigator", "administrator"},
    "brokers.change_brokerlicence": {"registrar", "administrator"},
    "brokers.change_licenceapplication": {"registrar", "administrator"},
    "brokers.change_agentproposal": {"registrar", "administrator"},
    "brokers.change_agentstaff": {"registrar", "administrator"},
    "brokers.view_licenceapplication": {"viewer", "investigator", "registrar", "administrator"},
    "signatures.add_trustedissuer": {"registrar", "administrator"},
    "signatures.add_revocationlist": {"registrar", "administrator"},
    "signatures.change_certificate": {"registrar", "administrator"},
    "accounts.change_organization": {"registrar", "administrator"},
    "accounts.change_user": {"administrator"},
    "signatures.delete_certificate": set(),
}


@pytest.mark.parametrize("group", sorted(OFFICER_GROUPS))
def test_each_group_has_exactly_its_permissions(group):
    officer = officer_in(group)
    for permission, groups in MATRIX.items():
        assert officer.has_perm(permission) == (group in groups), permission


def test_an_officer_in_no_group_sees_nothing(console):
    client = console()
    assert client.get("/officers/audit/flag/").status_code == 403
    assert client.get("/officers/dashboard/signins.csv").status_code == 403


def _administrator_answer(url: str) -> tuple[int, str | None]:
    """The one right answer to an administrator's GET of a console URL made by ``console_urls``."""
    page = url.removeprefix("/officers/")
    if re.fullmatch(r"\w+/\w+/(add|1/delete)/", page) or page == "autocomplete/":
        return 403, None  # adding and deleting rows are not console operations
    if page == "password_change/":
        return 302, "/accounts/password/"  # the portal's page, with its re-authentication
    if "/do/" in page or page.startswith(("r/", "receipts/", "(")):
        # No object action is called "signins", no model has a page on the public site, no
        # event has the placeholder id, and Django's catch-all route knows no such page.
        return 404, None
    row = re.fullmatch(r"(\w+)/(\w+)/1/(change/|history/)?", page)
    if row is None:
        return 200, None  # an index, a list, the dashboard
    app_label, model_name, view = row.groups()
    if view is None:
        return 302, f"{url}change/"  # Django's old object URL
    # A row of pk 1 exists on SQLite but not on PostgreSQL, whose sequences outlive each test:
    # the database decides which answer is right, Django's own "no such object" being the other.
    if apps.get_model(app_label, model_name).objects.filter(pk=1).exists():
        return 200, None
    return 302, "/officers/"


def test_an_administrator_opens_every_page_without_an_error(world, console, settings):
    """Every console URL with real rows behind it renders (no 500, no template error)."""
    from audit.services.sealing import audit_seal

    settings.AUDIT_CHECKPOINT_EVENTS = 1
    world.sign(world.broker_agent, world.trader_key)  # a refusal and a flag
    world.sign(world.broker_agent, world.broker_key)
    client = console("administrator")
    case = case_open(flags=list(Flag.objects.all()), actor=client.officer)
    case_note_add(case=case, text="first look", actor=client.officer)
    audit_seal()
    statuses = {}
    unexpected = {}
    for url in console_urls():
        response = client.get(url)
        statuses[url] = response.status_code
        answer = (response.status_code, response.get("Location"))
        if answer != _administrator_answer(url):
            unexpected[url] = answer
    assert unexpected == {}
    assert statuses["/officers/accounts/organization/"] == 200
    # Real rows' pages (pks are not 1 on PostgreSQL, whose sequences outlive each test).
    from signatures.models import SignatureRecord

    for url in (
        f"/officers/audit/case/{case.pk}/change/",
        f"/officers/signatures/signaturerecord/{SignatureRecord.objects.first().pk}/change/",
        f"/officers/accounts/organization/{world.trader.pk}/change/",
        f"/officers/signatures/certificate/{world.trader_certificate.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["anonymous", "broker_agent"])
def test_non_officers_posting_anywhere_change_nothing(who, request, broker_licence, a_flag):
    client = Client(enforce_csrf_checks=False)
    if who != "anonymous":
        assert sign_in(client, request.getfixturevalue(who).username).status_code == 302
    before = AuditEvent.objects.count()
    for url in console_urls():
        response = client.post(url, {"reason": "x", "action": "open_case", "_selected_action": [a_flag.pk],
                                     "confirm": "1", "level": "red"})  # fmt: skip
        assert (response.status_code, response.get("Location")) == _to_console_sign_in(url)
    broker_licence.refresh_from_db()
    assert broker_licence.status == "active"
    assert not a_flag.cases.exists()
    assert AuditEvent.objects.count() == before
