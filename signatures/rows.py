"""The rows of the two long signature tables, built in Python as the admin's change list builds its
cells: through the template engine, a page of fifty rows of eight to ten cells cost a worker more
than its database queries did (``bench/scale.py``, issue #10). The portal's history uses
``format_html``; who-signed, the busier page, escapes each value directly (see there)."""

from __future__ import annotations

import html

from django.template.defaultfilters import date as date_filter
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
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
    """officers/who_signed.html, from the rows signatures.admin builds (its CSV has the same).
    Fifty rows of twelve values: escaped with the standard library's ``html.escape``, which is
    what Django's ``escape`` calls, without the lazy-string wrapper around every value that made
    ``format_html`` a fifth of the page's time."""
    receipt_text = _h(gettext("receipt"))
    rows = []
    for hit in hits:
        receipt = f'<a href="{_h(hit["receipt"])}">{receipt_text}</a>' if hit["receipt"] else "—"
        rows.append(
            f'<tr><td><a href="{_h(hit["record_url"])}">{_h(hit["declaration"])}</a> ({_h(hit["kind"])})</td>'
            f"<td>{_h(localize(template_localtime(hit['time'])))}</td><td>{_h(hit['signer'])}</td>"
            f"<td>{_h(hit['organization'])}</td><td>{_h(hit['on_behalf_of'])}</td>"
            f"<td>{_h(hit['mandate'] or '—')}</td><td>{_h(hit['agent_number'] or '—')}</td>"
            f"<td><code>{_h(hit['certificate'] or '—')}</code></td><td>{_h(hit['outcome'])}</td>"
            f"<td>{receipt}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above went through _h


def _h(value: object) -> str:
    return html.escape(str(value))
