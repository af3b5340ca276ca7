"""The console's home: sign-ins, flags, declarations by signer, open flags, missing reports and the
audit trail's state, each as an SVG chart, a table and a CSV."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone, translation

from accounts.models import Organization, SignInEvent
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from audit.services.sealing import audit_seal
from brokers.models import BrokerLicence, OperationReport

pytestmark = pytest.mark.django_db


def panel(response, key):
    return next(p for p in response.context["panels"] if p.key == key)


def test_the_dashboard_shows_real_numbers(world, console, settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 1
    world.sign(world.trader_signer, world.trader_key)
    world.sign(world.broker_agent, world.broker_key)
    world.sign(world.broker_agent, world.broker_key)
    world.sign(world.broker_agent, world.trader_key)  # refused and flagged: certificate_foreign_use
    OperationReport.objects.create(
        broker=world.broker, period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 3, 31),
        due_on=datetime.date(2026, 4, 15), status="missing",
    )  # fmt: skip
    audit_seal()
    audit_event_record(action=Action.AUDIT_VERIFIED, data={"ok": True, "events": 5, "checkpoints": 1})
    client = console("viewer")
    response = client.get("/officers/")
    assert response.status_code == 200
    today = timezone.localdate().isoformat()

    signins = panel(response, "signins")
    # Codes are shown as their labels, in the reader's language, never as the stored codes.
    expected = []
    for language in ("vi", "en"):
        with translation.override(language):
            labels = (str(SignInEvent.Channel.OFFICERS.label), str(SignInEvent.Outcome.SUCCEEDED.label))
        expected.append([today, *labels, 1])
    assert any(row in signins.rows for row in expected), signins.rows
    assert "officers" not in [row[1] for row in signins.rows]
    assert signins.svg.startswith("<svg")

    declarations = panel(response, "declarations")
    assert sorted(row[1:] for row in declarations.rows) == [["broker", 2], ["trader's own staff", 1]]

    flags = panel(response, "flags")
    # The kind and severity by their names, never the stored codes.
    assert [today, "Certificate used outside its enterprise", "High", 1] in flags.rows
    open_flags = panel(response, "open-flags")
    assert open_flags.rows[0][1] == world.trader.tax_code and open_flags.rows[0][3] >= 1

    reports = panel(response, "missing-reports")
    assert reports.rows[0][1] == world.broker.tax_code and reports.rows[0][4] == 1

    trail = dict(panel(response, "audit").rows)
    assert trail["last checkpoint"].startswith("#")
    assert trail["its result"] == "OK"
    body = response.content.decode()
    assert signins.svg in body
    for chart in (signins.svg, declarations.svg, flags.svg, open_flags.svg, reports.svg):
        # Self-contained: no script, no link to anything outside the page.
        assert "<script" not in chart and "href" not in chart
        assert "http" not in chart.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_each_panel_downloads_as_csv(world, console):
    world.sign(world.trader_signer, world.trader_key)
    client = console("viewer")
    response = client.get("/officers/dashboard/declarations.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["day", "signed by", "declarations"]
    assert rows[1][1:] == ["trader's own staff", "1"]
    assert client.get("/officers/dashboard/nothing.csv").status_code == 404


def test_the_csv_names_codes_in_the_readers_language(world, console):
    world.sign(world.broker_agent, world.trader_key)  # refused and flagged: certificate_foreign_use
    OperationReport.objects.create(
        broker=world.broker, period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 3, 31),
        due_on=datetime.date(2026, 4, 15), status="missing",
    )  # fmt: skip
    client = console("viewer")

    def download(key: str, language: str) -> list[list[str]]:
        response = client.get(f"/officers/dashboard/{key}.csv", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'attachment; filename="{key}.csv"'
        return list(csv.reader(io.StringIO(response.content.decode())))

    today = timezone.localdate().isoformat()
    assert download("flags", "en") == [
        ["day", "kind", "severity", "flags"],
        [today, "Certificate used outside its enterprise", "High", "1"],
    ]
    kind_vi = "Chứng thư số bị sử dụng ngoài doanh nghiệp sở hữu"
    assert download("flags", "vi")[1] == [today, kind_vi, "Cao", "1"]
    open_flags = download("open-flags", "en")
    assert open_flags[0] == ["enterprise", "tax code", "kind", "open flags", "high severity"]
    assert open_flags[1] == [world.trader.name, world.trader.tax_code, "Trader", "1", "1"]
    with translation.override("vi"):
        trader_vi = str(Organization.Kind.TRADER.label)
        active_vi = str(BrokerLicence.Status.ACTIVE.label)
    assert download("open-flags", "vi")[1][2] == trader_vi != "trader"
    reports = download("missing-reports", "vi")
    licence = world.broker.licence
    assert reports[1][:4] == [world.broker.name, world.broker.tax_code, licence.number, active_vi]
    assert reports[1][4:] == ["1", "0", "2026-01-01"]


def test_the_dashboard_uses_the_page_width(console):
    page = console("viewer").get("/officers/").content.decode()
    assert 'class="dashboard-grid"' in page
    css = Path(finders.find("officers/console.css")).read_text()
    assert ".dashboard #content { width: auto; max-width: none; }" in css
    assert "grid-template-columns: repeat(auto-fit" in css


def test_chart_labels_are_escaped(console, trader):
    trader.name = "<b>Evil</b> & Co"
    trader.save(update_fields=["name"])
    now = timezone.now()
    Flag.objects.create(kind="x", severity="high", organization=trader, explanation="x",
                        first_seen_at=now, last_seen_at=now)  # fmt: skip
    svg = panel(console("viewer").get("/officers/"), "open-flags").svg
    assert "<b>" not in svg and "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in svg


def test_an_officer_without_a_group_sees_no_panels(console):
    response = console().get("/officers/")
    assert response.status_code == 200
    assert not response.context.get("panels")


def test_an_empty_dashboard_still_renders(console):
    response = console("viewer").get("/officers/")
    assert response.status_code == 200
    assert panel(response, "missing-reports").rows == []
    assert dict(panel(response, "audit").rows)["its result"] == "none yet"


def test_the_console_shows_each_checkpoints_proof_status(console, settings):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.models import AuditCheckpoint, AuditWitnessSignature
    from audit.services.witnesses import audit_checkpoints_witness
    from audit.verify_receipt import key_id
    from tests.audit.conftest import bypassing_triggers
    from tests.audit.helpers import record_many

    settings.AUDIT_CHECKPOINT_EVENTS = 5
    record_many(10)
    audit_seal()
    witness = Ed25519PrivateKey.generate()
    audit_checkpoints_witness(private_key=witness)
    first, second = AuditCheckpoint.objects.order_by("sequence")[:2]
    with bypassing_triggers() as cursor:  # forge the second co-signature
        cursor.execute(
            f"UPDATE {AuditWitnessSignature._meta.db_table} SET signature = %s WHERE checkpoint_id = %s",
            [bytes(64), second.pk],
        )
    client = console("viewer")
    kid = key_id(witness.public_key())
    page = client.get(f"/officers/audit/auditcheckpoint/{first.pk}/change/").content.decode()
    assert f"{kid}: valid" in page
    page = client.get(f"/officers/audit/auditcheckpoint/{second.pk}/change/").content.decode()
    assert f"{kid}: INVALID" in page
    trail = dict(panel(client.get("/officers/"), "audit").rows)
    assert trail["checkpoints co-signed by a witness"] == "2 / 2"
