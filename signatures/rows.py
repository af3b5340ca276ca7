"""The rows of the two long signature tables, built in Python as the admin's change list builds its
cells (``format_html``): through the template engine, a page of fifty rows of eight to ten cells
cost a worker more than its database queries did (``bench/scale.py``, issue #10)."""

from __future__ import annotations

from django.template.defaultfilters import date as date_filter
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from signatures.models import SignatureRecord


def declaration_history_rows(records: list[SignatureRecord]) -> SafeString:
    """signatures/declarations.html: time, declaration, trader, signer, certificate, mandate,
    outcome and the control channel the trader's compliance level suggests."""
    channels = {"green": gettext("green"), "red": gettext("red"), "yellow": gettext("yellow")}
    agent = gettext("agent")

    def cells(record: SignatureRecord) -> tuple:
        signer, trader = record.signer, record.trader
        kind = format_html("{} · {}", record.declaration_kind, record.representation)
        by = format_html("{} · {} {}", record.signer_organization.name, agent, record.agent_number)
        channel = trader.suggested_channel if trader else None
        return (
            date_filter(template_localtime(record.created_at), "Y-m-d H:i:s"),
            record.declaration_number,
            kind if record.representation else record.declaration_kind,
            record.trader_tax_code,
            signer.get_full_name() or signer.username,
            by if record.agent_number else record.signer_organization.name,
            Truncator(
                (record.certificate.serial_number if record.certificate else "")
                or record.certificate_fingerprint
            ).chars(24),
            record.authorization.contract_number if record.authorization else "—",
            record.get_outcome_display(),
            format_html("<br><code>{}</code>", record.reason_code) if record.reason_code else "",
            format_html(
                '<span class="channel channel-{}">{}</span>',
                channel,
                channels.get(channel, channels["yellow"]),
            )
            if trader
            else "—",
        )

    return format_html_join(
        "\n",
        "<tr><td>{}</td><td>{}<br><small>{}</small></td><td>{}</td><td>{}<br><small>{}</small></td>"
        "<td><small>{}</small></td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
        (cells(record) for record in records),
    )


def who_signed_rows(hits: list[dict]) -> SafeString:
    """officers/who_signed.html, from the rows signatures.admin builds (its CSV has the same)."""
    receipt_text = gettext("receipt")

    def cells(hit: dict) -> tuple:
        receipt = format_html('<a href="{}">{}</a>', hit["receipt"], receipt_text) if hit["receipt"] else "—"
        return (
            hit["record_url"], hit["declaration"], hit["kind"], localize(template_localtime(hit["time"])),
            hit["signer"], hit["organization"], hit["on_behalf_of"], hit["mandate"] or "—",
            hit["agent_number"] or "—", hit["certificate"] or "—", hit["outcome"], receipt,
        )  # fmt: skip

    return format_html_join(
        "\n",
        '<tr><td><a href="{}">{}</a> ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
        (cells(hit) for hit in hits),
    )
