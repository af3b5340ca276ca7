"""Every periodic schedule of the project, declared here and nowhere else.

``python manage.py install_schedules`` (also run after every ``migrate``) writes them into
django-celery-beat's tables idempotently and disables managed entries no longer declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from config.celery import QUEUE_AUDIT, QUEUE_DEFAULT, QUEUE_RISK

MANAGED_PREFIX = "csg:"


@dataclass(frozen=True)
class Schedule:
    task: str
    every: timedelta
    queue: str
    description: str


SCHEDULES: dict[str, Schedule] = {
    # Every 10 s: on a quiet system this sweep is what closes a due checkpoint, so a receipt is
    # ready at most AUDIT_CHECKPOINT_SECONDS + 10 s after its event (bench/audit.py --latency).
    "audit-seal-sweep": Schedule(
        task="audit.tasks.audit_seal",
        every=timedelta(seconds=10),
        queue=QUEUE_AUDIT,
        description="Seal audit events whose after-commit message was lost, and close due checkpoints.",
    ),
    "risk-evaluate-sweep": Schedule(
        task="risk.tasks.evaluate_sign_ins_pending",
        every=timedelta(seconds=60),
        queue=QUEUE_RISK,
        description="Evaluate sign-ins still unevaluated RISK_SWEEP_AFTER_SECONDS after they happened "
        "(their message was lost or the broker was down).",
    ),
    "accounts-suspend-inactive": Schedule(
        task="accounts.tasks.accounts_suspend_inactive",
        every=timedelta(hours=1),
        queue=QUEUE_DEFAULT,
        description="Suspend member accounts unused for ACCOUNT_INACTIVITY_DAYS.",
    ),
    "certificates-housekeeping": Schedule(
        task="signatures.tasks.certificates_housekeeping",
        every=timedelta(hours=1),
        queue=QUEUE_DEFAULT,
        description="Expire certificates, send the 30/7/1-day expiry reminders, flag stale CRLs.",
    ),
    "crls-refresh": Schedule(
        task="signatures.tasks.crls_refresh",
        every=timedelta(hours=1),
        queue=QUEUE_DEFAULT,
        description="With CRL_FETCH=true, download each trusted issuer's CRL from its distribution point.",
    ),
    "broker-reports-sweep": Schedule(
        task="brokers.tasks.operation_reports_sweep",
        every=timedelta(hours=1),
        queue=QUEUE_DEFAULT,
        description="Mark operations reports past their due date missing; escalate three in a row; "
        "propose revoking licences suspended six months without a report.",
    ),
    "authorizations-sweep": Schedule(
        task="brokers.tasks.authorizations_sweep",
        every=timedelta(hours=1),
        queue=QUEUE_DEFAULT,
        description="Remind of and expire mandate invitations; expire mandates past their last day.",
    ),
    "declarations-notice": Schedule(
        task="signatures.tasks.declarations_notice",
        every=timedelta(seconds=settings.SIGNATURE_NOTICE_SECONDS),
        queue=QUEUE_DEFAULT,
        description="Tell traders of the signatures made in their name (those wanting each one).",
    ),
    "declarations-digest": Schedule(
        task="signatures.tasks.declarations_digest",
        every=timedelta(hours=1),
        queue=QUEUE_DEFAULT,
        description="From SIGNATURE_DIGEST_HOUR, the daily digest for traders that prefer one.",
    ),
    "compliance-classification": Schedule(
        task="officers.tasks.compliance_classify_all",
        every=timedelta(hours=24),
        queue=QUEUE_DEFAULT,
        description="Recompute every enterprise's compliance level and suggested channel from its signals.",
    ),
    "worker-heartbeat": Schedule(
        task="config.tasks.worker_heartbeat",
        every=timedelta(seconds=30),
        queue=QUEUE_DEFAULT,
        description="Lets /healthz see that beat and a worker are both alive.",
    ),
}


def install_schedules() -> tuple[int, int]:
    """Create or update the declared schedules; return (installed, disabled)."""
    from django.db import transaction
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    with transaction.atomic():
        for name, schedule in SCHEDULES.items():
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=int(schedule.every.total_seconds()), period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.update_or_create(
                name=MANAGED_PREFIX + name,
                defaults={
                    "task": schedule.task,
                    "interval": interval,
                    "crontab": None,
                    "queue": schedule.queue,
                    "description": schedule.description,
                    "enabled": True,
                },
            )
        declared = [MANAGED_PREFIX + name for name in SCHEDULES]
        disabled = (
            PeriodicTask.objects.filter(name__startswith=MANAGED_PREFIX, enabled=True)
            .exclude(name__in=declared)
            .update(enabled=False)
        )
    return len(SCHEDULES), disabled


def install_schedules_after_migrate(using="default", **_kwargs) -> None:
    from django.db import connections

    if "django_celery_beat_periodictask" in connections[using].introspection.table_names():
        install_schedules()
