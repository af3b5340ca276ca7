"""Celery entry points of the signatures app."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from signatures.services import lifecycle, notices, trust


@shared_task(name="signatures.tasks.certificates_housekeeping", acks_late=True)
def certificates_housekeeping_task() -> dict:
    """Expiry, expiry reminders and stale revocation lists; idempotent, so running it hourly
    rather than daily only makes it prompter."""
    return {
        "expired": lifecycle.certificates_expire(),
        "reminded": lifecycle.certificates_remind_expiry(),
        "stale_crls": trust.crls_flag_stale(),
    }


@shared_task(name="signatures.tasks.crls_refresh", acks_late=True)
def crls_refresh_task() -> dict:
    if not settings.CRL_FETCH:
        return {}
    return trust.crls_refresh()


@shared_task(name="signatures.tasks.declarations_notice", acks_late=True)
def declarations_notice_task() -> int:
    return notices.declarations_notice()


@shared_task(name="signatures.tasks.declarations_digest", acks_late=True)
def declarations_digest_task() -> int:
    return notices.declarations_digest()
