"""Every page of the officer console, found in the officer site's URL patterns, with the objects
its URLs name and a cast that has lived a while, so lists have rows: for the tests that read each
page as an officer would (on a phone). The portal's counterpart is ``tests/portal_pages.py``."""

from __future__ import annotations

from django.apps import apps
from django.urls import URLPattern, URLResolver, reverse

from accounts.models import Organization, User
from audit.models import Flag
from audit.services.sealing import audit_seal
from brokers.services.licensing import agent_propose, licence_application_submit
from officers.services.cases import case_note_add, case_open
from officers.site import officer_site
from signatures.services.misuse import abuse_report
from tests.factories import OrganizationFactory, UserFactory
from tests.officers.helpers import officer_in
from tests.portal_pages import lived_in

# Not pages an officer reads: signing in and out, machine answers (CSV, JSON, scripts), the
# admin's add and delete pages (the console adds and deletes nothing), redirects to the portal.
SKIPPED_NAMES = {
    "login", "login_verify", "logout", "password_change", "password_change_done", "autocomplete",
    "jsi18n", "view_on_site", "dashboard_csv", "receipt",
}  # fmt: skip
SKIPPED_SUFFIXES = ("_add", "_delete")
# A search that finds something, so the who-signed page shows its result table.
QUERIES = {"who_signed": "?declaration_number=1090"}


def console_routes() -> dict[str, URLPattern]:
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield pattern

    return {
        pattern.name: pattern
        for pattern in walk(officer_site.urls[0])
        if pattern.name not in SKIPPED_NAMES and not pattern.name.endswith(SKIPPED_SUFFIXES)
    }


def console_lived_in(world) -> None:
    """The portal's lived-in cast (signatures accepted and refused, a flag, mandates), and the
    console's own work: a case with notes, a misuse report, a licence application with its
    proposed agent, a sealed audit trail with a checkpoint."""
    lived_in(world)
    officer = officer_in("investigator")
    case = case_open(flags=list(Flag.objects.all()), actor=officer, title="Chứng thư số dùng chéo")
    case_note_add(case=case, text="Đã gọi điện cho chủ doanh nghiệp", actor=officer)
    abuse_report(
        reporter=world.trader_owner, description="Có người ký thay", reported_user=world.trader_signer
    )
    applicant = OrganizationFactory(kind=Organization.Kind.BROKER, name="Công ty TNHH Đại lý Biển Mới")
    owner = UserFactory(organization=applicant, role=User.Role.OWNER, username="bienmoi.owner")
    signer = UserFactory(organization=applicant, role=User.Role.SIGNER, username="bienmoi.signer")
    agent_propose(actor=owner, user=signer, agent_number="CC-100")
    licence_application_submit(
        actor=owner, contact_name="Trần Thị Mai", contact_phone="+84912345678", contact_email="m@bm.vn"
    )
    audit_seal()


def console_urls() -> list[tuple[str, str]]:
    """``(name, url)`` of every console page: lists, each model's first object, the forms of its
    object actions (``officers.actions.ObjectAction``), and the console's own pages."""
    urls = []
    app_labels = sorted(
        {model._meta.app_label for model in apps.get_models() if officer_site.is_registered(model)}
    )
    for name, pattern in sorted(console_routes().items()):
        if "app_label" in pattern.pattern.regex.groupindex:
            urls += [(name, reverse(f"officers:{name}", kwargs={"app_label": label})) for label in app_labels]
            continue
        if not pattern.pattern.regex.groupindex:
            urls.append((name, reverse(f"officers:{name}") + QUERIES.get(name, "")))
            continue
        app_label, model_name, view = name.split("_", 2)
        admin = officer_site.get_model_admin(apps.get_model(app_label, model_name))
        obj = admin.model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        if view == "action":
            urls += [
                (f"{name}:{action.name}", reverse(f"officers:{name}", args=[obj.pk, action.name]))
                for action in admin.object_actions
            ]
        else:
            urls.append((name, reverse(f"officers:{name}", args=[obj.pk])))
    return urls
