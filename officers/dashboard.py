"""The console's dashboard (``/officers/``): one panel each for sign-ins, declarations, flags, the
enterprises with the most open flags, brokers' missing reports, licensing awaiting a decision and
the audit trail. Each panel is a
table (also its CSV) and, where it helps, a server-rendered SVG chart; the data comes from each
app's selectors."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as account_selectors
from accounts.models import Organization, SignInEvent
from audit import selectors as audit_selectors
from audit.flag_kinds import flag_kind_label
from audit.models import Flag
from brokers import selectors as broker_selectors
from brokers.models import BrokerLicence
from officers.charts import day_series, horizontal_bars, stacked_bars
from officers.labels import choice_label
from signatures import selectors as signature_selectors

DASHBOARD_DAYS = 30


@dataclass
class Panel:
    """One dashboard panel: a table (also its CSV) and, optionally, a server-rendered SVG chart."""

    key: str
    title: str
    columns: list
    rows: list[list] = field(default_factory=list)
    svg: str = ""


def signins_panel() -> Panel:
    days = audit_selectors.dashboard_days(DASHBOARD_DAYS)
    # Shown in the reader's language: the stored values are codes.
    rows = [
        (day, str(SignInEvent.Channel(channel).label), str(SignInEvent.Outcome(outcome).label), count)
        for day, channel, outcome, count in account_selectors.signins_per_day(since=days[0])
    ]
    labels = [day.isoformat() for day in days]
    by_outcome = day_series(labels, [(day.isoformat(), outcome, count) for day, _c, outcome, count in rows])
    return Panel(
        key="signins",
        title=gettext("Sign-ins per day by outcome (last %(days)s days)") % {"days": DASHBOARD_DAYS},
        columns=[gettext("day"), gettext("channel"), gettext("outcome"), gettext("sign-ins")],
        rows=[[day.isoformat(), channel, outcome, count] for day, channel, outcome, count in rows],
        svg=stacked_bars(labels, by_outcome, title=gettext("Sign-ins per day")) if rows else "",
    )


def declarations_panel() -> Panel:
    days = audit_selectors.dashboard_days(DASHBOARD_DAYS)
    rows = signature_selectors.declarations_by_signer_side(since=days[0])
    labels = [day.isoformat() for day in days]
    names = {"own_staff": gettext("trader's own staff"), "broker": gettext("broker")}
    series = day_series(labels, [(day.isoformat(), names[side], count) for day, side, count in rows])
    return Panel(
        key="declarations",
        title=gettext("Declarations signed by traders' own staff and by brokers (last %(days)s days)")
        % {"days": DASHBOARD_DAYS},
        columns=[gettext("day"), gettext("signed by"), gettext("declarations")],
        rows=[[day.isoformat(), names[side], count] for day, side, count in rows],
        svg=stacked_bars(labels, series, title=gettext("Declarations per day")) if rows else "",
    )


def flags_panel() -> Panel:
    days = audit_selectors.dashboard_days(DASHBOARD_DAYS)
    rows = [
        (day, flag_kind_label(kind), choice_label(Flag.Severity, severity), count)
        for day, kind, severity, count in audit_selectors.flags_per_day(since=days[0])
    ]
    labels = [day.isoformat() for day in days]
    by_severity = day_series(
        labels, [(day.isoformat(), severity, count) for day, _k, severity, count in rows]
    )
    most_severe_first = [str(label) for label in reversed(Flag.Severity.labels)]
    ordered = {name: by_severity[name] for name in most_severe_first if name in by_severity}
    return Panel(
        key="flags",
        title=gettext("Flags raised per day, by kind and severity (last %(days)s days)")
        % {"days": DASHBOARD_DAYS},
        columns=[gettext("day"), gettext("kind"), gettext("severity"), gettext("flags")],
        rows=[[day.isoformat(), kind, severity, count] for day, kind, severity, count in rows],
        svg=stacked_bars(labels, ordered, title=gettext("Flags per day by severity")) if rows else "",
    )


def open_flags_panel() -> Panel:
    rows = audit_selectors.flags_open_by_organization()
    return Panel(
        key="open-flags",
        title=gettext("Enterprises and brokers with the most open flags"),
        columns=[
            gettext("enterprise"),
            gettext("tax code"),
            gettext("kind"),
            gettext("open flags"),
            gettext("high severity"),
        ],
        rows=[
            [
                row["organization__name"],
                row["organization__tax_code"],
                choice_label(Organization.Kind, row["organization__kind"]),
                row["open"],
                row["high"],
            ]
            for row in rows
        ],
        svg=horizontal_bars(
            [(row["organization__name"], row["open"]) for row in rows], title=gettext("Open flags")
        )
        if rows
        else "",
    )


def reports_panel() -> Panel:
    rows = broker_selectors.brokers_with_failed_reports()
    return Panel(
        key="missing-reports",
        title=gettext("Brokers with missing or late operations reports"),
        columns=[
            gettext("broker"),
            gettext("tax code"),
            gettext("licence"),
            gettext("licence status"),
            gettext("missing"),
            gettext("late"),
            gettext("last missing period"),
        ],
        rows=[
            [
                row["broker__name"],
                row["broker__tax_code"],
                row["broker__licence__number"],
                choice_label(BrokerLicence.Status, row["broker__licence__status"]),
                row["missing"],
                row["late"],
                row["last_missing"].isoformat() if row["last_missing"] else "",
            ]
            for row in rows
        ],
        svg=horizontal_bars([(row["broker__name"], row["missing"]) for row in rows], title=gettext("Missing"))
        if rows
        else "",
    )


def licensing_panel() -> Panel:
    rows = broker_selectors.licensing_awaiting_review()
    what = {"application": gettext("licence application"), "agent": gettext("proposed agent")}
    return Panel(
        key="licensing",
        title=gettext("Licensing awaiting a decision"),
        columns=[
            gettext("enterprise"),
            gettext("tax code"),
            gettext("what"),
            gettext("agent number"),
            gettext("since"),
        ],
        rows=[
            [
                row["organization__name"],
                row["organization__tax_code"],
                what[row["kind"]],
                row["number"],
                f"{row['since']:%Y-%m-%d %H:%M}",
            ]
            for row in rows
        ],
    )


def audit_panel() -> Panel:
    state = audit_selectors.audit_trail_state()
    checkpoint, verification = state["checkpoint"], state["verification"]
    none = gettext("none yet")
    last_checkpoint = none
    if checkpoint:
        last_checkpoint = gettext("#%(sequence)s: %(events)s events, %(time)s") % {
            "sequence": checkpoint.sequence,
            "events": checkpoint.tree_size,
            "time": f"{timezone.localtime(checkpoint.issued_at):%d/%m/%Y %H:%M}",
        }
    verified_at = result = none
    if verification:
        verified_at = f"{timezone.localtime(verification.occurred_at):%d/%m/%Y %H:%M}"
        result = (
            gettext("OK")
            if verification.data.get("ok")
            else gettext("MISMATCH at %(where)s") % {"where": verification.data.get("first_problem")}
        )
    witnessed = f"{state['witnessed_checkpoints']} / {state['checkpoints']}"
    rows = [
        [gettext("last checkpoint"), last_checkpoint],
        [gettext("witness co-signatures on it"), ", ".join(state["checkpoint_witnesses"]) or none],
        [gettext("checkpoints co-signed by a witness"), witnessed],
        [gettext("events waiting to be sealed"), state["unsealed"]],
        [gettext("last full verification"), verified_at],
        [gettext("its result"), result],
    ]
    return Panel(
        key="audit", title=gettext("The audit trail"), columns=[gettext("item"), gettext("state")], rows=rows
    )


# The panels by key, in the order the dashboard shows them.
PANELS = {
    "signins": signins_panel,
    "declarations": declarations_panel,
    "flags": flags_panel,
    "open-flags": open_flags_panel,
    "missing-reports": reports_panel,
    "licensing": licensing_panel,
    "audit": audit_panel,
}


def panels() -> list[Panel]:
    return [build() for build in PANELS.values()]
