"""Small server-side SVG charts for the officer dashboard: no JavaScript, no external assets.

Every label is escaped; the output is safe to put in a page as it is.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe (Okabe-Ito) colours, one per series in order.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def stacked_bars(
    x_labels: list[str], series: dict[str, list[int]], *, title: str, width: int = 720, height: int = 220
) -> SafeString:
    """One stacked bar per x label (a day), a segment per series; a legend under the chart.
    ``series`` maps a name to one count per x label."""
    left, right, top, bottom = 40, 10, 24, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(x_labels))]
    peak = max(totals, default=0) or 1
    step = plot_w / max(len(x_labels), 1)
    bar_w = max(step * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for i, label in enumerate(x_labels):
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h
        for colour, (name, values) in zip(PALETTE, series.items(), strict=False):
            if not values[i]:
                continue
            h = values[i] / peak * plot_h
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {escape(name)} {values[i]}</title></rect>"
            )
        # A label every few bars keeps them readable.
        if len(x_labels) <= 10 or i % max(len(x_labels) // 8, 1) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 12}" font-size="9" '
                f'text-anchor="middle">{escape(label[-5:])}</text>'
            )
    legend_y = height - 18
    x = left
    for colour, name in zip(PALETTE, series, strict=False):
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{legend_y}" font-size="11">{escape(name)}</text>')
        x += 24 + 7 * len(str(name))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated label is escaped above


def horizontal_bars(items: list[tuple[str, int]], *, title: str, width: int = 720) -> SafeString:
    """One bar per (label, count), largest first as given."""
    row, left = 20, 260
    height = row * len(items) + 10
    peak = max((count for _label, count in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, count) in enumerate(items):
        y = 5 + i * row
        w = count / peak * (width - left - 40)
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" font-size="11" text-anchor="end">{escape(label[:40])}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="11">{count}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated label is escaped above


def day_series(days: list[str], rows: list[tuple[str, str, int]]) -> dict[str, list[int]]:
    """``(day, series, count)`` rows to one list of counts per series, aligned with ``days``."""
    index = {day: i for i, day in enumerate(days)}
    series: dict[str, list[int]] = {}
    for day, name, count in rows:
        if day in index:
            series.setdefault(str(name), [0] * len(days))[index[day]] += count
    return series
