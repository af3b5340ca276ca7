"""The compliance classification (DESIGN §1): each enterprise's level on Vietnam's five-level scale,
computed nightly from its signals (``officers.policies`` decides), or set by an officer, whose level
holds until cleared. The level steers the suggested control channel of its declarations."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Organization, User
from accounts.services.permissions import require_reason
from audit.models import Action
from audit.services.events import audit_event_record
from core.errors import ApplicationError
from officers.policies import Level, Signals, classify
from officers.selectors import compliance_signals

logger = logging.getLogger(__name__)


def _now() -> datetime.datetime:
    return timezone.now()


def _apply_level(organization: Organization, *, source: str, actor: User | None, reason: str = "") -> None:
    """Set the effective level (an officer's override wins over the computed one) and record
    ``organization.classified`` when it changed, or always for an officer's decision."""
    level = (
        organization.compliance_override_level or organization.compliance_computed_level or Level.UNCLASSIFIED
    )
    previous = organization.compliance_level
    organization.compliance_level = level
    if level != previous or actor is not None:
        audit_event_record(
            action=Action.ORGANIZATION_CLASSIFIED,
            actor=actor,
            organization=organization,
            target=organization,
            data={
                "level": level,
                "previous": previous,
                "computed": organization.compliance_computed_level,
                "source": source,
                "signals": [signal["code"] for signal in organization.compliance_reasons],
                "reason": reason[:500],
            },
        )


@transaction.atomic
def compliance_classify(*, organization: Organization, now: datetime.datetime | None = None) -> Organization:
    """Recompute one enterprise's level from its signals over ``COMPLIANCE_WINDOW_DAYS`` (confirmed
    misuse cases, misuse reports, non-cooperation, missed broker reports, certificate lending,
    account sharing) and keep the reasons. An officer's override stays in force; the computed level
    is kept beside it. Records ``organization.classified`` when the effective level changes."""
    now = now or _now()
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    since = now - datetime.timedelta(days=settings.COMPLIANCE_WINDOW_DAYS)
    counts = compliance_signals(organization_ids=[organization.pk], since=since)[organization.pk]
    signals = Signals(non_cooperation=int(organization.non_cooperation), **counts)
    level, reasons = classify(signals, verified_at=organization.verified_at, now=now)
    organization.compliance_computed_level = level
    organization.compliance_reasons = reasons
    organization.compliance_classified_at = now
    _apply_level(organization, source="computed", actor=None)
    organization.save(
        update_fields=[
            "compliance_level", "compliance_computed_level", "compliance_reasons", "compliance_classified_at",
            "updated_at",
        ]
    )  # fmt: skip
    return organization


def compliance_classify_all(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Nightly: classify every enterprise that is not suspended, one short transaction each (an
    error on one does not stop the others; the next night retries it)."""
    now = now or _now()
    done = failed = 0
    ids = Organization.objects.exclude(status=Organization.Status.SUSPENDED).values_list("pk", flat=True)
    for organization in Organization.objects.filter(pk__in=list(ids)).iterator():
        try:
            compliance_classify(organization=organization, now=now)
        except Exception:  # one broken row must not stop the night's run
            logger.exception("compliance classification failed for organisation %s", organization.pk)
            failed += 1
        else:
            done += 1
    return {"classified": done, "failed": failed}


@transaction.atomic
def compliance_override_set(
    *, organization: Organization, level: str, reason: str, actor: User
) -> Organization:
    """An officer sets an enterprise's level by hand, with the reason (it then holds until cleared).
    Records ``organization.classified``. Raises ``ApplicationError``: ``not_allowed`` (an officer
    without the classify right), ``reason_required``, ``level_invalid``."""
    _require_classifier(actor)
    reason = require_reason(reason)
    if level not in Level.values or level == Level.UNCLASSIFIED:
        raise ApplicationError(gettext("Choose a level on the five-level scale."), code="level_invalid")
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    organization.compliance_override_level = level
    organization.compliance_override_reason = reason
    organization.compliance_override_by = actor
    organization.compliance_override_at = _now()
    _apply_level(organization, source="override", actor=actor, reason=reason)
    organization.save(
        update_fields=[
            "compliance_level", "compliance_override_level", "compliance_override_reason",
            "compliance_override_by", "compliance_override_at", "updated_at",
        ]
    )  # fmt: skip
    return organization


def _require_classifier(actor: User | None) -> None:
    if actor is None or not actor.is_officer or not actor.has_perm("audit.classify_enterprise"):
        raise ApplicationError(
            gettext("Only an officer who classifies enterprises can do this."),
            code="not_allowed",
            status_code=403,
        )


@transaction.atomic
def compliance_override_clear(*, organization: Organization, reason: str, actor: User) -> Organization:
    """Drop an officer's level: the computed one applies again. Same rights and errors as setting it."""
    _require_classifier(actor)
    reason = require_reason(reason)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if not organization.compliance_override_level:
        raise ApplicationError(gettext("No level was set by an officer."), code="invalid_transition")
    organization.compliance_override_level = ""
    organization.compliance_override_reason = ""
    organization.compliance_override_by = None
    organization.compliance_override_at = None
    _apply_level(organization, source="override_cleared", actor=actor, reason=reason)
    organization.save(
        update_fields=[
            "compliance_level", "compliance_override_level", "compliance_override_reason",
            "compliance_override_by", "compliance_override_at", "updated_at",
        ]
    )  # fmt: skip
    return organization
