"""Flags: a suspicion raised by a detector, counted again while it stays open."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from audit.canonical import validate_data
from audit.models import Action, Flag
from audit.services.events import audit_event_record, audit_events_record
from core.queries import update_from_values


def _now() -> datetime.datetime:
    return timezone.now()


@transaction.atomic
def flag_raise(
    *,
    kind: str,
    severity: str,
    explanation: str,
    user=None,
    organization=None,
    evidence: dict | None = None,
) -> tuple[Flag, bool]:
    """Open a flag, or count another sighting on the open flag of the same kind and subject seen
    within ``FLAG_WINDOW_HOURS`` (its severity only rises). Returns ``(flag, created)``; a new flag
    records ``flag.raised``. Raises ``AuditDataError`` for evidence that could hold a secret."""
    evidence = evidence or {}
    validate_data(evidence, "evidence")
    now = _now()
    window = now - datetime.timedelta(hours=settings.FLAG_WINDOW_HOURS)
    existing = (
        Flag.objects.select_for_update()
        .filter(
            kind=kind,
            user=user if getattr(user, "pk", None) else None,
            organization=organization,
            status=Flag.Status.OPEN,
            last_seen_at__gte=window,
        )
        .order_by("-last_seen_at")
        .first()
    )
    if existing is not None:
        existing.count += 1
        existing.last_seen_at = now
        existing.evidence = evidence
        existing.explanation = explanation
        if Flag.SEVERITY_RANK[severity] > Flag.SEVERITY_RANK[existing.severity]:
            existing.severity = severity
        existing.save(update_fields=["count", "last_seen_at", "evidence", "explanation", "severity"])
        return existing, False
    flag = Flag.objects.create(
        kind=kind,
        severity=severity,
        user=user if getattr(user, "pk", None) else None,
        organization=organization,
        evidence=evidence,
        explanation=explanation,
        first_seen_at=now,
        last_seen_at=now,
    )
    audit_event_record(
        action=Action.FLAG_RAISED,
        actor=None,
        organization=organization,
        target=flag,
        data={
            "kind": kind,
            "severity": severity,
            "user": str(user.pk) if getattr(user, "pk", None) else None,
        },
    )
    return flag, True


@dataclass(frozen=True)
class Sighting:
    """One thing seen, for ``flags_raise``: the arguments of ``flag_raise``."""

    kind: str
    severity: str
    explanation: str
    user: object = None
    organization: object = None
    evidence: dict = field(default_factory=dict)


def flags_raise(*, sightings: list[Sighting]) -> list[tuple[Flag, bool]]:
    """``flag_raise`` for many sightings, in order, with the same flags, counts and ``flag.raised``
    events as calling it for each in turn, in a few statements: the open flags of every subject
    are read and locked in one query (in id order, so two batches lock in the same order), new
    flags are inserted in one, counted ones updated in one, and the new flags' events inserted in
    one. Returns ``(flag, created)`` per sighting. Raises ``AuditDataError`` for evidence that
    could hold a secret, before writing anything."""
    for sighting in sightings:
        validate_data(sighting.evidence, "evidence")
    if not sightings:
        return []
    now = _now()
    window = now - datetime.timedelta(hours=settings.FLAG_WINDOW_HOURS)

    def subject(sighting: Sighting) -> tuple[str, int | None, int | None]:
        return (
            sighting.kind,
            getattr(sighting.user, "pk", None),
            getattr(sighting.organization, "pk", None),
        )

    keys = {subject(sighting) for sighting in sightings}
    # The open flags of these users, and of the kinds seen without a user (served by the indexes
    # on user_id and flag_subject_open), are locked and matched exactly here: one OR per subject
    # costs the ORM more than the few extra rows.
    users = {user_id for _kind, user_id, _org in keys if user_id is not None}
    userless_kinds = {kind for kind, user_id, _org in keys if user_id is None}
    open_flags: dict[tuple, Flag] = {}
    for flag in (
        Flag.objects.select_for_update()
        .filter(
            models.Q(user_id__in=users) | models.Q(user__isnull=True, kind__in=userless_kinds),
            status=Flag.Status.OPEN,
            last_seen_at__gte=window,
        )
        .order_by("pk")
    ):
        key = (flag.kind, flag.user_id, flag.organization_id)
        if key in keys and (key not in open_flags or flag.last_seen_at > open_flags[key].last_seen_at):
            open_flags[key] = flag
    results: list[tuple[Flag, bool]] = []
    created: list[tuple[Flag, Sighting]] = []
    counted: dict[int, Flag] = {}
    for sighting in sightings:
        key = subject(sighting)
        flag = open_flags.get(key)
        if flag is None:
            flag = Flag(
                kind=sighting.kind,
                severity=sighting.severity,
                user=sighting.user if key[1] else None,
                organization=sighting.organization,
                evidence=sighting.evidence,
                explanation=sighting.explanation,
                first_seen_at=now,
                last_seen_at=now,
            )
            open_flags[key] = flag
            created.append((flag, sighting))
            results.append((flag, True))
            continue
        flag.count += 1
        flag.last_seen_at = now
        flag.evidence = sighting.evidence
        flag.explanation = sighting.explanation
        if Flag.SEVERITY_RANK[sighting.severity] > Flag.SEVERITY_RANK[flag.severity]:
            flag.severity = sighting.severity
        if flag.pk is not None:  # one created in this batch is inserted as it ends up
            counted[flag.pk] = flag
        results.append((flag, False))
    Flag.objects.bulk_create([flag for flag, _sighting in created])
    if counted:
        update_from_values(
            Flag, list(counted.values()), ["count", "last_seen_at", "evidence", "explanation", "severity"]
        )
    audit_events_record(
        events=[
            {
                "action": Action.FLAG_RAISED,
                "organization": flag.organization,
                "target": flag,
                "data": {
                    "kind": sighting.kind,
                    "severity": sighting.severity,
                    "user": str(flag.user_id) if flag.user_id else None,
                },
            }
            for flag, sighting in created
        ]
    )
    return results
