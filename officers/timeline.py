"""A case's timeline: what happened to the enterprise concerned, newest first, read from the audit
trail (every fact that matters writes an event there in its own transaction, DESIGN §5 rule 5):
sign-ins, signatures made by it or in its name, flags, licence, certificate and mandate changes,
and what officers did with their reasons and notes.

Only the enterprises of the case (the case's own, or its flags' when they span several) are read,
through the trail's organisation-and-time index; officers' own reads are left out, they are noise
in a history of the enterprise."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import SignInEvent
from audit.flag_kinds import flag_kind_label
from audit.models import Action, AuditEvent, Case, CaseNote, Flag
from officers.labels import choice_label, person_name, refusal_label
from signatures.models import Declaration

TIMELINE_LIMIT = 200

# An action's code starts with what it is about; the timeline groups by it.
TOPICS = {
    "signin": _("Sign-in"),
    "session": _("Sign-in"),
    "declaration": _("Signature"),
    "flag": _("Flag"),
    "licence": _("Licence"),
    "report": _("Licence"),
    "agent": _("Licence"),
    "certificate": _("Certificate"),
    "authorization": _("Mandate"),
    "case": _("Case"),
    "organization": _("Officer decision"),
    "abuse": _("Misuse report"),
    "risk": _("Automatic response"),
}
OTHER_TOPIC = _("Account")


@dataclass
class TimelineEntry:
    at: datetime.datetime
    topic: str
    what: str
    who: str
    details: list[str] = field(default_factory=list)
    this_case: bool = False


# Reasons the system records as codes rather than a person's words.
CODED_REASONS = {
    Action.USER_SUSPENDED: {"inactivity": _("not used for a long time")},
    Action.SIGNIN_REVIEW_REFUSED: {
        "forged": _("the link was forged"),
        "not_yours": _("the link was meant for someone else"),
        "used": _("the link had already been used"),
        "expired": _("the link had expired"),
    },
}


def _details(event: AuditEvent, notes: dict[int, str]) -> list[str]:
    """The facts an officer reads from an event, in words rather than the stored codes."""
    data, details = event.data or {}, []
    topic = event.action.split(".", 1)[0]
    if topic == "declaration":
        details.append(
            gettext("Declaration %(number)s (%(kind)s)")
            % {"number": data.get("number", ""), "kind": choice_label(Declaration.Kind, data.get("kind", ""))}
        )
        if data.get("agent_number"):
            details.append(gettext("agent number %(number)s") % {"number": data["agent_number"]})
        if data.get("reason"):
            details.append(gettext("Refused: %(reason)s") % {"reason": refusal_label(data["reason"])})
        return details
    if topic == "signin" and data.get("network"):
        details.append(gettext("network %(network)s") % {"network": data["network"]})
    if data.get("kind") and topic == "flag":
        details.append(flag_kind_label(data["kind"]))
    if data.get("severity") in Flag.Severity.values:
        details.append(choice_label(Flag.Severity, data["severity"]))
    if data.get("outcome") in Case.Outcome.values:
        details.append(choice_label(Case.Outcome, data["outcome"]))
    if data.get("number") and topic == "licence":
        details.append(gettext("licence %(number)s") % {"number": data["number"]})
    if isinstance(data.get("reason"), str) and data["reason"]:
        reason = CODED_REASONS.get(event.action, {}).get(data["reason"], data["reason"])
        details.append(gettext("Reason: %(reason)s") % {"reason": reason})
    if data.get("note") in notes:
        details.append(gettext("Note: %(note)s") % {"note": notes[data["note"]]})
    return details


def _latest(events, limit: int) -> list[AuditEvent]:
    return list(
        events.exclude(action=Action.OFFICER_VIEWED)
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:limit]
    )


def case_timeline(case: Case, *, limit: int = TIMELINE_LIMIT) -> list[TimelineEntry]:
    """The latest ``limit`` events of the case's enterprises and of the case itself, newest first."""
    organization_ids = (
        {case.organization_id}
        if case.organization_id
        else set(case.flags.exclude(organization=None).values_list("organization_id", flat=True))
    )
    # One query per enterprise (a case's flags name one or a few) and one for the case itself, each
    # a short backward walk of an index (organisation and time; object), merged here: one query
    # with OR and IN would sort every event of a large enterprise to find its latest.
    batches = [
        _latest(AuditEvent.objects.filter(organization_id=pk), limit) for pk in sorted(organization_ids)
    ]
    batches.append(
        _latest(AuditEvent.objects.filter(target_type="audit.case", target_id=str(case.pk)), limit)
    )
    unique = {event.pk: event for batch in batches for event in batch}
    events = sorted(unique.values(), key=lambda event: (event.occurred_at, event.pk), reverse=True)[:limit]
    note_ids = [event.data["note"] for event in events if isinstance((event.data or {}).get("note"), int)]
    notes = dict(
        CaseNote.objects.filter(pk__in=note_ids)
        .filter(Q(case__organization_id__in=organization_ids) | Q(case=case))
        .values_list("pk", "text")
    )
    return [
        TimelineEntry(
            at=event.occurred_at,
            topic=str(TOPICS.get(event.action.split(".", 1)[0], OTHER_TOPIC)),
            what=choice_label(Action, event.action),
            who=person_name(event.actor) or _channel_or_system(event),
            details=_details(event, notes),
            this_case=event.target_type == "audit.case" and event.target_id == str(case.pk),
        )
        for event in events
    ]


def _channel_or_system(event: AuditEvent) -> str:
    """Who acted when no actor is recorded: on a sign-in, someone not (yet) signed in (a failed
    attempt is not pinned on the account it tried); anything else is the system's own work, even
    when it happened during someone's request (a flag raised while a broker filed)."""
    if event.action.startswith("signin.") and event.channel in SignInEvent.Channel.values:
        channel = choice_label(SignInEvent.Channel, event.channel)
        return gettext("not signed in, %(channel)s") % {"channel": channel}
    return gettext("the system")
