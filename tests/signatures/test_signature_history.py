"""The portal's signature history read a page at a time (issue #10): the same records, in the same
order, as the plain "in our name or by us" query, on every page, on SQLite and on PostgreSQL
(where it is two index scans merged)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.pagination import UncountedPage
from signatures.models import SignatureRecord
from signatures.selectors import SignatureHistory, signature_records_for
from tests.factories import OrganizationFactory


def record(*, trader, signer, organization, minutes_ago: int, outcome="accepted") -> SignatureRecord:
    row = SignatureRecord.objects.create(
        declaration_number=f"10{SignatureRecord.objects.count():010d}",
        declaration_kind="import",
        trader=trader,
        trader_tax_code=trader.tax_code if trader else "0100000000",
        signer=signer,
        signer_organization=organization,
        signature=b"0",
        document_sha256="0" * 64,
        outcome=outcome,
        reason_code="" if outcome == "accepted" else "signature_invalid",
        channel="api",
    )
    SignatureRecord.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    return row


@pytest.fixture
def history(trader, trader_signer, trader_owner, broker, broker_agent):
    other_trader = OrganizationFactory(kind="trader")
    for n in range(23):
        # Own staff, the broker for the trader, the trader's signer for another trader (refused),
        # an unknown trader, and records of others; some at the same minute (ties broken by id).
        record(trader=trader, signer=trader_signer, organization=trader, minutes_ago=n)
        record(trader=trader, signer=broker_agent, organization=broker, minutes_ago=n)
        if n % 5 == 0:
            record(
                trader=other_trader,
                signer=trader_signer,
                organization=trader,
                minutes_ago=n,
                outcome="rejected",
            )
            record(
                trader=None, signer=trader_signer, organization=trader, minutes_ago=n + 1, outcome="rejected"
            )
        record(trader=other_trader, signer=broker_agent, organization=broker, minutes_ago=n)
    return {"trader": trader_owner, "broker": broker_agent}


@pytest.mark.parametrize("viewer", ["trader", "broker"])
def test_every_page_holds_what_the_plain_query_holds_in_the_same_order(history, viewer):
    user = history[viewer]
    expected = list(
        signature_records_for(viewer=user).order_by("-created_at", "-pk").values_list("pk", flat=True)
    )
    assert len(expected) > 40
    for start, stop in ((0, 10), (10, 20), (7, 31), (40, 60), (len(expected) - 3, len(expected) + 5)):
        assert [r.pk for r in SignatureHistory(viewer=user)[start:stop]] == expected[start:stop]


def test_a_page_counts_nothing_and_knows_whether_an_older_one_exists(history):
    user = history["trader"]
    total = signature_records_for(viewer=user).count()
    with CaptureQueriesContext(connection) as queries:
        first = UncountedPage(SignatureHistory(viewer=user), "1", 20)
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert len(first) == 20 and first.has_next() and not first.has_previous()
    last = UncountedPage(SignatureHistory(viewer=user), str(total // 20 + 1), 20)
    assert len(last) == total % 20 and not last.has_next() and last.has_previous()
    assert list(UncountedPage(SignatureHistory(viewer=user), "nonsense", 20)) == list(first)


def test_someone_without_an_enterprise_sees_nothing(history, officer):
    assert SignatureHistory(viewer=officer)[0:50] == []


def test_the_portal_page_lists_the_newest_first(client, history):
    client.force_login(history["trader"])
    response = client.get(reverse("declaration_list"))
    assert response.status_code == 200
    shown = [r.pk for r in response.context["page"]]
    assert shown == list(
        signature_records_for(viewer=history["trader"])
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[:50]
    )


@pytest.mark.parametrize("party", ["trader", "broker"])
def test_who_signed_by_tax_code_pages_hold_what_the_or_holds_in_the_same_order(history, officer, party):
    """The officers' search by tax code merges two index reads (TaxCodeSearch); every page holds
    what the plain "in its name or by its staff" query holds, other criteria included."""
    from django.db.models import Q

    from signatures.selectors import TaxCodeSearch, signature_search

    organization = history[party].organization
    # In both parts: signed by the organisation, naming its own tax code as the trader's (which is
    # then no trader); the page must hold it once.
    both = record(trader=None, signer=history[party], organization=organization, minutes_ago=3)
    SignatureRecord.objects.filter(pk=both.pk).update(trader_tax_code=organization.tax_code)
    plain = SignatureRecord.objects.filter(
        Q(trader_tax_code=organization.tax_code) | Q(signer_organization=organization)
    ).order_by("-created_at", "-pk")
    expected = list(plain.values_list("pk", flat=True))
    assert len(expected) > 40
    search = signature_search(viewer=officer, tax_code=f" {organization.tax_code} ")
    assert isinstance(search, TaxCodeSearch)
    for start, stop in ((0, 10), (0, 101), (7, 31), (40, 60), (len(expected) - 3, len(expected) + 5)):
        assert [r.pk for r in search[start:stop]] == expected[start:stop]
    refused = list(plain.filter(outcome="rejected").values_list("pk", flat=True))
    narrowed = signature_search(viewer=officer, tax_code=organization.tax_code, user="nobody-at-all")
    assert narrowed[0:50] == []
    signer = SignatureRecord.objects.get(pk=expected[0]).signer.username
    by_signer = signature_search(viewer=officer, tax_code=organization.tax_code, user=signer)
    assert [r.pk for r in by_signer[0:100]] == list(
        plain.filter(signer__username=signer).values_list("pk", flat=True)[:100]
    )
    assert refused == [r.pk for r in search[0:500] if r.outcome == "rejected"]


def test_each_portal_row_shows_what_was_signed_escaped_in_local_time(
    client, trader, trader_owner, broker, broker_agent
):
    broker.name = 'Đại lý <i>"Cảng & Kho"</i>'
    broker.save(update_fields=["name"])
    accepted = record(trader=trader, signer=broker_agent, organization=broker, minutes_ago=3)
    SignatureRecord.objects.filter(pk=accepted.pk).update(
        agent_number="AG-7", representation="direct", certificate_fingerprint="f" * 64
    )
    refused = record(trader=None, signer=broker_agent, organization=broker, minutes_ago=1, outcome="rejected")
    client.force_login(trader_owner)
    page = client.get(reverse("declaration_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = body.split("<tr>")[1:]
    assert len(rows) == 1, "the refusal for an unknown trader is the broker's, not the trader's"
    row = rows[0]
    accepted.refresh_from_db()
    local = timezone.localtime(accepted.created_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"<td>{local}</td>" in row
    assert f"<td>{accepted.declaration_number}<br><small>Import · Direct</small></td>" in row, (
        "kinds by their label"
    )
    assert "Đại lý &lt;i&gt;&quot;Cảng &amp; Kho&quot;&lt;/i&gt; · agent AG-7" in row and "<i>" not in row
    assert f"<small>{'f' * 23}…</small>" in row, "a fingerprint without a serial, cut to 24 characters"
    assert "<td>—</td>" in row, "no mandate"
    assert '<span class="channel channel-' in row
    client.force_login(broker_agent)
    page = client.get(reverse("declaration_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{refused.declaration_number}" in page
    assert "<br><small>The signature does not match the certificate that it names.</small>" in page
    assert "No signature yet." not in page


def test_an_empty_history_says_so(client, trader_owner):
    client.force_login(trader_owner)
    page = client.get(reverse("declaration_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No signature yet." in page
