"""One-time authorisation codes (the HMRC agent-authorisation pattern): a trader's manager issues a
short code, gives it to its broker, and the broker proposes a mandate with it instead of the
trader's registration date. The code is shown once and kept only as a keyed hash."""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from accounts.models import Organization, User
from accounts.services.permissions import require_trader_manager
from audit.models import Action
from audit.services.events import audit_event_record
from brokers.models import MandateCode
from core.errors import ApplicationError

# No 0/O, 1/I/L: read aloud over the phone or typed from a note without doubt. 8 characters of 31
# give 8.5e11 codes against a handful of guesses a minute (KNOWN_FACT_FAILURES_PER_MINUTE).
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8
OPEN_CODES_PER_TRADER = 10


def _normalized(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash(trader_id: int, code: str) -> str:
    # Keyed with SECRET_KEY: a copy of the database alone does not let anyone try codes offline.
    return salted_hmac("brokers.mandate_code", f"{trader_id}:{_normalized(code)}").hexdigest()


def formatted(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@transaction.atomic
def mandate_code_issue(*, actor: User) -> tuple[MandateCode, str]:
    """A new code for the actor's enterprise, valid ``MANDATE_CODE_HOURS``; returns the record and
    the code, which is not stored and cannot be shown again. Records ``mandate_code.issued``."""
    trader = require_trader_manager(
        actor, gettext("Only a trader's owner or an administrator can issue authorisation codes.")
    )
    Organization.objects.select_for_update().filter(pk=trader.pk).first()  # one issuer at a time
    now = timezone.now()
    open_codes = MandateCode.objects.filter(
        trader=trader, used_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now
    )
    if open_codes.count() >= OPEN_CODES_PER_TRADER:
        raise ApplicationError(
            gettext("Your enterprise already has %(count)d unused codes. Cancel one first.")
            % {"count": OPEN_CODES_PER_TRADER},
            code="not_allowed",
        )
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    record = MandateCode.objects.create(
        trader=trader,
        code_hash=_hash(trader.pk, code),
        issued_by=actor,
        expires_at=now + datetime.timedelta(hours=settings.MANDATE_CODE_HOURS),
    )
    audit_event_record(
        action=Action.MANDATE_CODE_ISSUED,
        actor=actor,
        organization=trader,
        target=record,
        data={"expires_at": record.expires_at.isoformat()},
    )
    return record, formatted(code)


@transaction.atomic
def mandate_code_cancel(*, actor: User, pk: int) -> MandateCode:
    """Withdraw an unused code of the actor's enterprise; another enterprise's code is not found."""
    trader = require_trader_manager(
        actor, gettext("Only a trader's owner or an administrator can issue authorisation codes.")
    )
    record = MandateCode.objects.select_for_update().filter(trader=trader, pk=pk).first()
    if record is None:
        raise ApplicationError(gettext("No such code."), code="not_found", status_code=404)
    if record.is_open:
        record.cancelled_at = timezone.now()
        record.save(update_fields=["cancelled_at"])
        audit_event_record(
            action=Action.MANDATE_CODE_CANCELLED, actor=actor, organization=trader, target=record, data={}
        )
    return record


def mandate_code_redeem(*, trader: Organization, code: str, broker: Organization) -> bool:
    """Use ``code`` once for ``broker``, inside the caller's transaction. False for a wrong, used,
    cancelled or expired code alike, so the answer tells nothing about which."""
    record = (
        MandateCode.objects.select_for_update()
        .filter(trader=trader, code_hash=_hash(trader.pk, code))
        .first()
    )
    if record is None or not record.is_open:
        return False
    record.used_at, record.used_by_broker = timezone.now(), broker
    record.save(update_fields=["used_at", "used_by_broker"])
    return True
