"""Cases: officers working flags. A case groups flags, has an assignee and notes, and is closed with
an outcome that resolves its flags and tells the enterprise's owner."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, User
from accounts.services.notifications import notification_send
from audit.flag_kinds import flag_kind_label
from audit.models import Action, Case, CaseNote, Flag
from audit.services.events import audit_event_record
from core.errors import ApplicationError


def _require_investigator(user: User | None, what: str) -> None:
    if user is None or not user.is_officer or not user.is_active or not user.has_perm("audit.change_case"):
        raise ApplicationError(
            gettext("%(who)s is not an investigating officer.") % {"who": what},
            code="not_investigator",
            status_code=403,
        )


def _case_event(case: Case, action: str, actor: User | None, **data) -> None:
    audit_event_record(action=action, actor=actor, organization=case.organization, target=case, data=data)


@transaction.atomic
def case_open(
    *, flags: list[Flag], actor: User | None, title: str = "", assignee: User | None = None
) -> Case:
    """Group flags into a new case (at least one; flags already in an open case stay there and are
    refused). The enterprise concerned is the flags' one when they share it. ``actor`` is the
    investigator, or ``None`` when the system opens it (a misuse report opens a case at once).
    Records ``case.opened``. Raises ``ApplicationError``: ``not_investigator``, ``no_flags``,
    ``flag_in_open_case``."""
    if actor is not None:
        _require_investigator(actor, gettext("You"))
    if assignee is not None:
        _require_investigator(assignee, assignee.get_username())
    flags = list(Flag.objects.select_for_update().filter(pk__in=[flag.pk for flag in flags]).order_by("pk"))
    if not flags:
        raise ApplicationError(gettext("Choose at least one flag."), code="no_flags")
    busy = [flag.pk for flag in flags if flag.cases.filter(status=Case.Status.OPEN).exists()]
    if busy:
        raise ApplicationError(
            gettext("Flags already in an open case: %(ids)s.") % {"ids": ", ".join(map(str, busy))},
            code="flag_in_open_case",
        )
    organizations = {flag.organization_id for flag in flags}
    organization = flags[0].organization if len(organizations) == 1 else None
    case = Case.objects.create(
        title=(title or "").strip()[:200]
        or ", ".join(sorted({flag_kind_label(f.kind) for f in flags}))[:200],
        organization=organization,
        assignee=assignee,
        opened_by=actor,
        opened_at=timezone.now(),
    )
    case.flags.set(flags)
    _case_event(
        case,
        Action.CASE_OPENED,
        actor,
        flags=[flag.pk for flag in flags],
        assignee=assignee.pk if assignee else None,
    )
    return case


def _open_case(case: Case) -> Case:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != Case.Status.OPEN:
        raise ApplicationError(gettext("This case is closed."), code="case_closed")
    return case


@transaction.atomic
def case_assign(*, case: Case, assignee: User, actor: User) -> Case:
    """Give an open case to an investigating officer. Records ``case.updated``."""
    _require_investigator(actor, gettext("You"))
    _require_investigator(assignee, assignee.get_username())
    case = _open_case(case)
    case.assignee = assignee
    case.save(update_fields=["assignee"])
    _case_event(case, Action.CASE_UPDATED, actor, change="assigned", assignee=assignee.pk)
    return case


@transaction.atomic
def flags_assign(*, flags: list[Flag], assignee: User, actor: User) -> list[Flag]:
    """Give queued flags to an investigating officer ("assign to me" is ``assignee=actor``), so two
    officers do not work the same finding. Resolved flags are refused: there is nothing left to
    do. Records ``flag.assigned`` per flag whose assignee changes. Raises ``ApplicationError``:
    ``not_investigator``, ``no_flags``, ``flag_resolved``."""
    _require_investigator(actor, gettext("You"))
    _require_investigator(assignee, assignee.get_username())
    flags = list(Flag.objects.select_for_update().filter(pk__in=[flag.pk for flag in flags]).order_by("pk"))
    if not flags:
        raise ApplicationError(gettext("Choose at least one flag."), code="no_flags")
    resolved = [flag.pk for flag in flags if flag.status == Flag.Status.RESOLVED]
    if resolved:
        raise ApplicationError(
            gettext("Flags already resolved: %(ids)s.") % {"ids": ", ".join(map(str, resolved))},
            code="flag_resolved",
        )
    for flag in flags:
        if flag.assignee_id == assignee.pk:
            continue
        previous = flag.assignee_id
        flag.assignee = assignee
        flag.save(update_fields=["assignee"])
        audit_event_record(
            action=Action.FLAG_ASSIGNED,
            actor=actor,
            organization=flag.organization,
            target=flag,
            data={"assignee": assignee.pk, "previous": previous},
        )
    return flags


@transaction.atomic
def case_flags_add(*, case: Case, flags: list[Flag], actor: User) -> Case:
    """Add more flags to an open case. Records ``case.updated``."""
    _require_investigator(actor, gettext("You"))
    case = _open_case(case)
    added = [flag for flag in flags if not flag.cases.filter(pk=case.pk).exists()]
    busy = [flag.pk for flag in added if flag.cases.filter(status=Case.Status.OPEN).exists()]
    if busy:
        raise ApplicationError(
            gettext("Flags already in an open case: %(ids)s.") % {"ids": ", ".join(map(str, busy))},
            code="flag_in_open_case",
        )
    case.flags.add(*added)
    _case_event(case, Action.CASE_UPDATED, actor, change="flags_added", flags=[flag.pk for flag in added])
    return case


@transaction.atomic
def case_note_add(*, case: Case, text: str, actor: User) -> CaseNote:
    """A note on a case (open or closed: later findings are written down too). Records
    ``case.updated``. Raises ``ApplicationError`` (``note_empty``)."""
    _require_investigator(actor, gettext("You"))
    text = (text or "").strip()
    if not text:
        raise ApplicationError(gettext("Write the note."), code="note_empty", fields={"text": ["required"]})
    case = Case.objects.get(pk=case.pk)
    note = CaseNote.objects.create(case=case, author=actor, text=text[:4000], created_at=timezone.now())
    _case_event(case, Action.CASE_UPDATED, actor, change="note", note=note.pk)
    return note


@transaction.atomic
def case_close(*, case: Case, outcome: str, note: str, actor: User) -> Case:
    """Close a case with its outcome and a note saying why: its open flags are resolved with the
    same outcome, and the enterprise concerned (its owner) is told. Records ``case.closed`` and a
    ``flag.resolved`` per flag. Raises ``ApplicationError``: ``not_investigator``, ``case_closed``,
    ``outcome_invalid``, ``note_empty``."""
    _require_investigator(actor, gettext("You"))
    if outcome not in Case.Outcome.values:
        raise ApplicationError(gettext("Choose the outcome."), code="outcome_invalid")
    case = _open_case(case)
    case_note_add(case=case, text=note, actor=actor)
    now = timezone.now()
    case.status, case.outcome, case.closed_at = Case.Status.CLOSED, outcome, now
    case.full_clean(exclude=["flags"])
    case.save(update_fields=["status", "outcome", "closed_at"])
    for flag in case.flags.select_for_update().exclude(status=Flag.Status.RESOLVED):
        flag.status, flag.outcome = Flag.Status.RESOLVED, outcome
        flag.save(update_fields=["status", "outcome"])
        audit_event_record(
            action=Action.FLAG_RESOLVED,
            actor=actor,
            organization=flag.organization,
            target=flag,
            data={"outcome": outcome, "case": case.pk},
        )
    _case_event(case, Action.CASE_CLOSED, actor, outcome=outcome)
    if case.organization is not None:
        for owner in User.objects.filter(
            organization=case.organization, role=User.Role.OWNER, is_active=True
        ):
            notification_send(
                user=owner,
                kind=Notification.Kind.CASE_CLOSED,
                case=case.pk,
                organization=case.organization.name,
                outcome=outcome,
            )
    return case
