"""Evaluating sign-ins (DESIGN §9): claim them, read their histories, run the configured
detectors, and keep each one's score and reasons; the sign-ins with findings also raise their
flags, take their automatic responses (``risk.services.responses``) and ask "was this you?"
(``risk.services.reviews``).

A sign-in is evaluated in a batch: the task evaluates its own sign-in with the backlog still
waiting, the sweep goes through whatever a lost message left. One sign-in alone is a batch of one.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from accounts.models import SignInEvent
from audit.services.flags import Sighting, flags_raise
from core.queries import update_from_values
from risk import findings as engine
from risk.findings import Finding
from risk.selectors import risk_histories_get
from risk.services.responses import risk_respond_many
from risk.services.reviews import signin_reviews_ask

logger = logging.getLogger(__name__)

# Spray flags are about a source, not an account: one open flag per campaign.
_SUBJECTLESS_DETECTORS = frozenset({"password_spray"})


def _now() -> datetime.datetime:
    return timezone.now()


@dataclass(frozen=True)
class BatchResult:
    claimed: int  # sign-ins this batch took
    evaluated: int  # ... and evaluated (the others failed, were logged, and wait for the next sweep)
    last_id: int  # the largest id it took (the next batch starts after it)


def signins_claim(*, claimable: Q, limit: int, first: int | None = None) -> list[SignInEvent]:
    """Claims up to ``limit`` unevaluated sign-ins that match ``claimable``, oldest first (sign-in
    ``first`` before the others if it is among them), in the caller's transaction, each loaded
    with its user and organisation (what the detectors read, and what the flags, responses and
    questions of a risky one need). Their ``evaluated_at`` is set on the instances only: the
    batch writes every result once, at its end.

    On PostgreSQL the claim locks its rows (``FOR UPDATE SKIP LOCKED``, through the partial index
    ``signin_unevaluated``), so two workers sweeping at once take disjoint batches instead of
    waiting for each other; the sign-ins are then read with their users and organisations by
    primary key. SQLite's transactions take the write lock first (``IMMEDIATE``), so what is
    selected there is still unclaimed when it is written."""
    order = ["id"] if first is None else [Case(When(pk=first, then=Value(0)), default=Value(1)), "id"]
    locked = (
        SignInEvent.objects.filter(claimable, evaluated_at__isnull=True)
        .select_for_update(skip_locked=True)
        .order_by(*order)
        .values("pk")[:limit]
    )
    events = list(
        SignInEvent.objects.select_related("user", "organization").filter(pk__in=locked).order_by("id")
    )
    now = _now()
    for event in events:
        event.evaluated_at = now
    return events


def _results_write(events: list[SignInEvent]) -> None:
    """Each sign-in's ``evaluated_at``, score and reasons, every sign-in written once, in one
    statement (``core.queries.update_from_values``). The update that marks a sign-in evaluated
    cannot be a HOT update (``evaluated_at`` is in ``signin_unevaluated``'s predicate): a second
    write would put a second new version of the row in every index of the table."""
    update_from_values(SignInEvent, events, ["evaluated_at", "risk_score", "risk_reasons"])


def _findings_record(*, found: list[tuple[SignInEvent, list[Finding]]], clean: list[SignInEvent]) -> None:
    """Writes the findings of sign-ins, in order: a flag per finding (``flags_raise`` counts
    repeats, as ``flag_raise`` would one by one), every sign-in's result (with those of the
    ``clean`` sign-ins), the responses for its highest severity and, for a new flag from
    ``RISK_NOTIFY_SEVERITY`` up, the "was this you?" questions."""
    sightings = []
    # Each finding's reason, whose English sentence is also its flag's explanation: one switch to
    # English per finding instead of two.
    reasons = [[finding.as_reason() for finding in findings] for _event, findings in found]
    for (event, findings), event_reasons in zip(found, reasons, strict=True):
        for finding, reason in zip(findings, event_reasons, strict=True):
            subjectless = finding.detector in _SUBJECTLESS_DETECTORS
            sightings.append(
                Sighting(
                    kind=finding.detector,
                    severity=finding.severity,
                    explanation=reason["message"],
                    user=None if subjectless else event.user,
                    organization=None if subjectless else event.organization,
                    evidence={**finding.evidence, "signin": str(event.pk)},
                )
            )
    raised = iter(flags_raise(sightings=sightings))
    new_flags = {}
    for (event, findings), event_reasons in zip(found, reasons, strict=True):
        new_flags[event.pk] = 0
        for reason in event_reasons:
            flag, created = next(raised)
            reason["flag"] = flag.pk
            new_flags[event.pk] += created
        event.risk_score = engine.combined_score(findings)
        event.risk_reasons = event_reasons
    _results_write([event for event, _findings in found] + clean)
    # Responses are taken on every risky sign-in (an attacker's new session must end too), but
    # people are told and asked once per new flag: a password being guessed for an hour counts on
    # its open flag instead of sending a question per attempt.
    risky = [
        (event, engine.highest_severity(findings), bool(new_flags[event.pk]))
        for event, findings in found
        if event.user is not None
    ]
    risk_respond_many(risky=[item for item in risky if item[1]])
    signin_reviews_ask(
        events=[
            event
            for event, severity, told in risky
            if told and engine.severity_at_least(severity, settings.RISK_NOTIFY_SEVERITY)
        ]
    )


def _clean_commit_need_not_wait() -> None:
    """A transaction that only claimed sign-ins and wrote them clean (score 0) commits without
    waiting for its WAL to reach disk (PostgreSQL's ``synchronous_commit = off`` for this
    transaction only): a crash can lose it only whole, claim included, and the sweep then
    evaluates those sign-ins again to the same result; nothing was told or queued. The flush was
    most of a clean evaluation's time. Transactions with findings (flags, audit events,
    notifications) still wait."""
    # Only as the outermost transaction: inside a caller's, it would not wait for the caller's
    # own writes either.
    if connection.vendor == "postgresql" and not connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def signins_evaluate_claimed(*, events: list[SignInEvent]) -> None:
    """Evaluates claimed sign-ins in the caller's transaction: the histories (one statement), the
    detectors, and every sign-in's result with the flags, responses and questions of those with
    findings."""
    if not events:
        return
    histories = risk_histories_get(events=events)
    found = []
    clean = []
    for event in events:
        findings = engine.evaluate(event, histories[event.id])
        if findings:
            found.append((event, findings))
        else:
            event.risk_score, event.risk_reasons = 0, []
            clean.append(event)
    if found:
        _findings_record(found=found, clean=clean)
    else:
        _clean_commit_need_not_wait()
        _results_write(clean)


def _batch_evaluate(*, claimable: Q, limit: int, first: int | None, after: int) -> BatchResult:
    """Claims and evaluates one batch in one transaction. If it fails it is rolled back and its
    sign-ins are evaluated one by one, so one that cannot be evaluated is logged (its id only) and
    does not hold back the others."""
    ids: list[int] = []
    try:
        with transaction.atomic():
            events = signins_claim(claimable=claimable, limit=limit, first=first)
            ids = [event.id for event in events]
            signins_evaluate_claimed(events=events)
        return BatchResult(claimed=len(ids), evaluated=len(ids), last_id=max(ids, default=after))
    except Exception:
        if not ids:
            raise
        logger.exception("could not evaluate a batch of %d sign-ins; evaluating them one by one", len(ids))
    evaluated = 0
    for event_id in ids:
        try:
            if signin_evaluate(event_id=event_id) is not None:
                evaluated += 1
        except Exception:
            logger.exception("could not evaluate sign-in %s; the next sweep tries again", event_id)
    return BatchResult(claimed=len(ids), evaluated=evaluated, last_id=max(ids))


def signin_evaluate(*, event_id: int) -> SignInEvent | None:
    """Run the configured detectors over one sign-in (a batch of one): its score and reasons, a
    flag per finding (``flag_raise`` counts repeats), the automatic responses of
    ``RISK_RESPONSES`` for its highest severity, and from ``RISK_NOTIFY_SEVERITY`` up a "was this
    you?" question to the user and their enterprise's owner when a flag is new (a repeat counts on
    its open flag). Idempotent: the sign-in is claimed in the same transaction as its results, so
    a redelivered task, or the sweep racing the task, evaluates it once; a crash rolls the claim
    back and the sweep retries. Returns the sign-in, or ``None`` if already evaluated (or gone, or
    held by another worker)."""
    with transaction.atomic():
        events = signins_claim(claimable=Q(pk=event_id), limit=1)
        signins_evaluate_claimed(events=events)
    return events[0] if events else None


def signin_evaluate_batch(
    *, older_than: datetime.datetime, after: int = 0, limit: int = 500, first: int | None = None
) -> BatchResult:
    """Claim up to ``limit`` unevaluated sign-ins (``id > after``, happened before
    ``older_than``, oldest first, sign-in ``first`` first if it is still unevaluated; on
    PostgreSQL skipping those another worker holds) and evaluate them in one transaction, with the
    same findings, flags, responses and questions as ``signin_evaluate`` each: one statement
    claims and loads the batch, one reads every history, and one writes every sign-in's result.
    If the batch fails it is rolled back and its sign-ins are evaluated one by one."""
    claimable = Q(id__gt=after, occurred_at__lt=older_than)
    if first is not None:
        claimable |= Q(pk=first)
    return _batch_evaluate(claimable=claimable, limit=limit, first=first, after=after)


def signin_evaluate_with_backlog(*, event_id: int) -> BatchResult:
    """What the task does with its sign-in: evaluates it in a batch with up to
    ``RISK_BATCH_SIZE - 1`` other sign-ins still waiting (oldest first, skipping those another
    worker holds). With no backlog the batch is the sign-in alone; under load one message
    evaluates many, and the messages of the sign-ins it took find them evaluated and do
    nothing, so workers catch up in batches instead of a transaction per sign-in."""
    return signin_evaluate_batch(older_than=_now(), limit=settings.RISK_BATCH_SIZE, first=event_id)


def signin_evaluate_pending(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """The sweep: evaluate every sign-in still unevaluated ``RISK_SWEEP_AFTER_SECONDS`` after it
    happened (its message was lost, or the broker was down), oldest first, in batches
    (``signin_evaluate_batch``) until none is left. Returns how many it evaluated."""
    now = now or _now()
    older_than = now - datetime.timedelta(seconds=settings.RISK_SWEEP_AFTER_SECONDS)
    evaluated = 0
    after = 0
    while True:
        result = signin_evaluate_batch(older_than=older_than, after=after, limit=batch)
        evaluated += result.evaluated
        if result.claimed < batch:
            return evaluated
        after = result.last_id
