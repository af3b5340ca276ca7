"""Reads of the officers' app: who may investigate, the work queue's order, and the compliance
classification's signals."""

from __future__ import annotations

import datetime

from django.db.models import Case as Choose
from django.db.models import Count, F, IntegerField, Max, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from accounts.models import User
from audit.models import Case, Flag
from brokers.models import OperationReport
from signatures.models import AbuseReport


def investigators() -> QuerySet[User]:
    """Active officers who may work cases (their groups grant ``audit.change_case``), by username:
    the people a case can be assigned to."""
    return (
        User.objects.filter(role=User.Role.OFFICER, is_active=True, suspended_at__isnull=True)
        .filter(
            Q(
                groups__permissions__codename="change_case",
                groups__permissions__content_type__app_label="audit",
            )
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by("username")
    )


def severity_rank(field: str = "severity") -> Choose:
    """``Flag.SEVERITY_RANK`` in SQL: severities are stored as words, whose alphabetical order is
    no use for sorting."""
    return Choose(
        *(When(**{field: severity}, then=Value(rank)) for severity, rank in Flag.SEVERITY_RANK.items()),
        output_field=IntegerField(),
    )


# Unresolved before resolved, then the most severe, and within one severity the longest waiting
# first, so an old high-severity finding is never buried under new low ones.
FLAG_QUEUE_ORDER = ("done", "-severity_rank", "first_seen_at", "id")
CASE_QUEUE_ORDER = ("done", "-severity_rank", "opened_at", "id")


def flag_queue(flags: QuerySet[Flag]) -> QuerySet[Flag]:
    """Flags as a work queue (``FLAG_QUEUE_ORDER``), with the ``severity_rank`` filters use."""
    return flags.annotate(
        severity_rank=severity_rank(),
        done=Choose(When(status=Flag.Status.RESOLVED, then=Value(1)), default=Value(0)),
    ).order_by(*FLAG_QUEUE_ORDER)


def case_queue(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases as a work queue (``CASE_QUEUE_ORDER``): a case is as severe as its most severe flag
    (a case without flags ranks lowest)."""
    return cases.annotate(
        severity_rank=Coalesce(Max(severity_rank("flags__severity")), Value(-1)),
        done=Choose(When(status=Case.Status.CLOSED, then=Value(1)), default=Value(0)),
    ).order_by(*CASE_QUEUE_ORDER)


def compliance_signals(*, organization_ids: list[int], since: datetime.datetime) -> dict[int, dict[str, int]]:
    """The compliance classification's inputs per organisation, since ``since`` (a few grouped
    queries for any number of organisations). Flags an officer closed as a false positive do not
    count; a misuse report counts against the reported person's enterprise only when another
    enterprise filed it (an enterprise reporting its own staff is doing the right thing)."""
    signals: dict[int, dict[str, int]] = {pk: {} for pk in organization_ids}

    def add(name: str, rows) -> None:
        for organization_id, count in rows:
            if organization_id in signals:
                signals[organization_id][name] = count

    add(
        "confirmed_misuse",
        Case.objects.filter(
            organization_id__in=organization_ids,
            status=Case.Status.CLOSED,
            outcome=Case.Outcome.CONFIRMED_MISUSE,
            closed_at__gte=since,
        )
        .values_list("organization_id")
        .annotate(count=Count("id")),
    )
    flags = Flag.objects.filter(organization_id__in=organization_ids, first_seen_at__gte=since).exclude(
        outcome=Case.Outcome.FALSE_POSITIVE
    )
    for name, kind in (
        ("certificate_lending", "certificate_foreign_use"),
        ("account_sharing", "foreign_party_device"),
    ):
        add(name, flags.filter(kind=kind).values_list("organization_id").annotate(count=Count("id")))
    add(
        "abuse_reports",
        AbuseReport.objects.filter(reported_user__organization_id__in=organization_ids, created_at__gte=since)
        .exclude(organization_id=F("reported_user__organization_id"))
        .values_list("reported_user__organization_id")
        .annotate(count=Count("id")),
    )
    reports = OperationReport.objects.filter(broker_id__in=organization_ids, due_on__gte=since.date())
    for name, status in (("missed_reports", "missing"), ("late_reports", "late")):
        add(name, reports.filter(status=status).values_list("broker_id").annotate(count=Count("id")))
    return signals
