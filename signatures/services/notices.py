"""Telling traders of the signatures made in their name (DESIGN §9): a notice per signature, or a
daily digest, as each trader chose. Sweeps, not messages: the signing path publishes nothing."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification, Organization, User
from accounts.services.notifications import notification_send
from signatures.models import SignatureRecord


def _now() -> datetime.datetime:
    return timezone.now()


NOTICE_BATCH = 500
DIGEST_NUMBERS_SHOWN = 20


def _claim_unnoticed(**conditions) -> list[SignatureRecord]:
    """Accepted signatures not yet told to their trader, locked so that two workers never tell twice
    (``skip_locked``: a concurrent sweep takes the next ones instead of waiting)."""
    return list(
        SignatureRecord.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("trader", "signer_organization", "signer")
        .filter(outcome=SignatureRecord.Outcome.ACCEPTED, noticed_at__isnull=True, **conditions)
        .order_by("created_at", "pk")[:NOTICE_BATCH]
    )


def _managers_by_organization(organization_ids) -> dict[int, list[User]]:
    managers: dict[int, list[User]] = {}
    for user in User.objects.filter(
        organization_id__in=set(organization_ids), role__in=User.MANAGER_ROLES, is_active=True
    ).order_by("pk"):
        managers.setdefault(user.organization_id, []).append(user)
    return managers


def _signed_by(record: SignatureRecord) -> dict[str, str]:
    """Who signed, as the trader reads it: a broker by its name and agent number, the trader's own
    staff member by their name, family name first as Vietnamese names are written."""
    if record.signer_organization_id != record.trader_id:
        return {"signer": record.signer_organization.name, "agent": record.agent_number or "—"}
    signer = record.signer
    person = " ".join(part for part in (signer.last_name, signer.first_name) if part) if signer else ""
    return {"person": person or (signer.username if signer else "—")}


def declarations_notice(*, now: datetime.datetime | None = None) -> int:
    """Tell each trader that wants it of every signature made in its name (DESIGN §9): its owner
    and administrators get a notification and an email per signature. Runs every
    ``SIGNATURE_NOTICE_SECONDS`` (and at commit where no beat runs); returns the records told."""
    now = now or _now()
    with transaction.atomic():
        records = _claim_unnoticed(trader__signature_notice=Organization.SignatureNotice.EACH)
        if not records:
            return 0
        SignatureRecord.objects.filter(pk__in=[record.pk for record in records]).update(noticed_at=now)
        managers = _managers_by_organization(record.trader_id for record in records)
        for record in records:
            for manager in managers.get(record.trader_id, []):
                notification_send(
                    user=manager,
                    kind=Notification.Kind.DECLARATION_SIGNED,
                    number=record.declaration_number,
                    **_signed_by(record),
                )
    return len(records)


def declarations_digest(*, now: datetime.datetime | None = None) -> int:
    """The daily digest for traders that prefer one: from ``SIGNATURE_DIGEST_HOUR`` (local time)
    on, one notification per earlier day with signatures not yet told, listing their numbers.
    Idempotent (the records are marked told), so it runs hourly. Returns the records told."""
    now = now or _now()
    local_now = timezone.localtime(now)
    if local_now.hour < settings.SIGNATURE_DIGEST_HOUR:
        return 0
    today_starts = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    told = 0
    while True:
        with transaction.atomic():
            records = _claim_unnoticed(
                trader__signature_notice=Organization.SignatureNotice.DAILY, created_at__lt=today_starts
            )
            if not records:
                return told
            SignatureRecord.objects.filter(pk__in=[record.pk for record in records]).update(noticed_at=now)
            days: dict[tuple[int, datetime.date], list[str]] = {}
            for record in records:
                day = timezone.localdate(record.created_at)
                days.setdefault((record.trader_id, day), []).append(record.declaration_number)
            managers = _managers_by_organization(trader_id for trader_id, _day in days)
            for (trader_id, day), numbers in days.items():
                shown = ", ".join(numbers[:DIGEST_NUMBERS_SHOWN]) + (
                    "…" if len(numbers) > DIGEST_NUMBERS_SHOWN else ""
                )
                for manager in managers.get(trader_id, []):
                    notification_send(
                        user=manager,
                        kind=Notification.Kind.DECLARATION_DIGEST,
                        count=len(numbers),
                        date=day.isoformat(),
                        numbers=shown,
                    )
            told += len(records)
