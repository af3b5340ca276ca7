"""A flag's page shows its evidence in words, in the officer's language (each key by its label,
lists joined and cut, yes/no, numbers and times formatted, ids linked), with the JSON as recorded
kept beside it; any JSON shape renders."""

from __future__ import annotations

import html
import json
import pathlib
import re

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import Flag
from officers.labels import EVIDENCE
from tests.officers.helpers import console_sign_in, officer_in

pytestmark = pytest.mark.django_db


def flag_with(organization, kind: str, evidence) -> Flag:
    now = timezone.now()
    return Flag.objects.create(
        kind=kind, severity="high", organization=organization, explanation="seen", evidence=evidence,
        first_seen_at=now, last_seen_at=now,
    )  # fmt: skip


@pytest.fixture
def reader(db):
    """The flag's page as an officer reads it in ``language``: the evidence block as text."""
    officer = officer_in("viewer")

    def read(flag: Flag, language: str) -> tuple[str, str]:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        assert console_sign_in(client, officer.username).status_code == 302
        response = client.get(f"/officers/audit/flag/{flag.pk}/change/")
        assert response.status_code == 200
        body = response.content.decode()
        shown = re.search(r'<dl class="evidence">.*?</dl>\s*(?=<details)', body, re.S)
        words = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown.group(0)))) if shown else ""
        return words, body

    return read


def test_a_shared_device_reads_as_labelled_terms_in_both_languages(reader, trader):
    codes = [f"03012345{n:02d}" for n in range(14)]
    flag = flag_with(
        trader,
        "foreign_party_device",
        {"device": "d-7f3a", "tax_codes": codes, "network": "203.0.113.0/24", "signin": "42"},
    )
    english, body = reader(flag, "en")
    assert "Device d-7f3a" in english
    assert "Network 203.0.113.0/24" in english
    assert f"Enterprises' tax codes {', '.join(codes[:10])} and 4 more" in english
    assert 'href="/officers/accounts/signinevent/42/change/"' in body
    vietnamese, body = reader(flag, "vi")
    assert "Thiết bị d-7f3a" in vietnamese
    assert "Mạng 203.0.113.0/24" in vietnamese
    assert f"{', '.join(codes[:10])} và 4 nữa" in vietnamese
    # The evidence as recorded stays on the page, under "Dữ liệu gốc".
    raw = re.search(r"<summary>Dữ liệu gốc</summary><pre>(.*?)</pre>", body, re.S)
    assert json.loads(html.unescape(raw.group(1))) == flag.evidence


def test_counts_yes_no_statuses_and_times_are_formatted(reader, broker):
    flag = flag_with(
        broker,
        "missed_reports",
        {
            "licence": "DLHQ-0001/2026",
            "periods": ["2026-Q1", "2026-Q2", "2026-Q3"],
            "licence_status": "suspended",
            "suspended_automatically": True,
            "suspended_at": "2026-10-01T03:00:00+00:00",
            "failed_codes": 12345,
        },
    )
    english, _body = reader(flag, "en")
    assert "Licence number DLHQ-0001/2026" in english
    assert "Periods missing or late 2026-Q1, 2026-Q2, 2026-Q3" in english
    assert "Licence status Suspended" in english
    assert "Suspended automatically yes" in english
    assert "Suspended since 01/10/2026 10:00" in english  # Asia/Ho_Chi_Minh
    assert "Wrong second-factor codes 12,345" in english
    vietnamese, _body = reader(flag, "vi")
    assert "Số giấy phép DLHQ-0001/2026" in vietnamese
    assert "Trạng thái giấy phép Bị tạm dừng" in vietnamese
    assert "Tự động tạm đình chỉ có" in vietnamese
    assert "suspended" not in vietnamese and "True" not in vietnamese


def test_an_off_hours_sign_in_keeps_the_enterprise_s_own_clock(reader, trader):
    flag = flag_with(trader, "off_hours", {"local_time": "2026-12-06T23:40+07:00", "signin": 7})
    english, _body = reader(flag, "en")
    assert "Local time of the enterprise 06/12/2026 23:40 (UTC+07:00)" in english


WEIRD = [
    {"x_unknown_key": {"nested": {"deeper": {"deepest": [1, 2, {"a": None}]}}}, "empty": [], "none": None},
    {"accounts": [{"username": "a"}, {"username": "b"}], "network": None, "ratio": 0.25, "": "blank key"},
    ["a", "list", "at", "the", "top"],
    "just a string",
    12,
    {},
    {"signin": True, "used_by": "not a number", "suspended_at": "yesterday", "licence_status": "odd"},
]


@pytest.mark.parametrize("evidence", WEIRD, ids=range(len(WEIRD)))
def test_any_json_shape_renders(reader, trader, evidence):
    flag = flag_with(trader, "a_kind_added_later", evidence)
    _english, body = reader(flag, "en")
    _vietnamese, vietnamese_body = reader(flag, "vi")
    assert "Dữ liệu gốc" in vietnamese_body
    if isinstance(evidence, dict) and "x_unknown_key" in evidence:
        # Unknown keys are shown by their code, and nothing recorded is hidden.
        assert "<code>x_unknown_key</code>" in body and "<code>deepest</code>" in body
    if evidence == {}:
        assert "Nothing was recorded." in body


def test_every_evidence_key_the_source_records_has_words():
    recorded = set()
    for path in ("risk/detectors.py", "risk/services/reviews.py", "risk/services/evaluation.py",
                 "signatures/services/misuse.py", "signatures/services/binding.py",
                 "signatures/services/signing.py", "signatures/services/trust.py",
                 "brokers/services/reports.py"):  # fmt: skip
        source = pathlib.Path(path).read_text(encoding="utf-8")
        for block in re.findall(r"evidence\s*=\s*\{(.*?)\}", source, re.S):
            recorded |= set(re.findall(r'"(\w+)":', block))
    assert recorded, "the keys were not found: the check would prove nothing"
    assert recorded - set(EVIDENCE) == set()
