"""Recording audit events: one or many, in the caller's transaction, with sealing queued after it."""

from __future__ import annotations

import datetime
import logging
import secrets

from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from audit.canonical import SALT_SIZE, validate_data
from audit.models import Action, AuditEvent
from audit.services.sealing import SEAL_QUEUED_KEY
from audit.tasks import audit_seal_task
from core.context import RequestContext, current_context, normalise_ip
from core.tasks import publish_safely

logger = logging.getLogger(__name__)

_ACTIONS = frozenset(Action.values)


def _now() -> datetime.datetime:
    return timezone.now()


def _target_of(target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    target_type, target_id = target
    return str(target_type), str(target_id)


def _audit_event_build(
    *,
    action: str,
    actor=None,
    organization=None,
    target=None,
    data: dict | None = None,
    context: RequestContext | None = None,
    occurred_at: datetime.datetime | None = None,
) -> AuditEvent:
    """An unsaved event from ``audit_event_record``'s arguments, checked."""
    if action not in _ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if organization is not None and organization.pk is None:
        raise ValueError("an audit event's organisation must be saved first")
    data = {} if data is None else data
    validate_data(data)
    context = context or current_context()
    target_type, target_id = _target_of(target)
    return AuditEvent(
        occurred_at=occurred_at or _now(),
        action=action,
        # Only a saved user is an actor (an anonymous visitor has no pk); the instance keeps the
        # objects it was given, as one built from them would.
        actor=actor if getattr(actor, "pk", None) else None,
        organization=organization,
        target_type=target_type[:100],
        target_id=target_id[:64],
        data=data,
        channel=context.channel,
        ip=normalise_ip(context.ip) or "",
        user_agent=context.user_agent[:512],
        request_id=context.request_id[:64],
        network_salt=secrets.token_bytes(SALT_SIZE),
    )


def audit_event_record(
    *,
    action: str,
    actor=None,
    organization=None,
    target=None,
    data: dict | None = None,
    context: RequestContext | None = None,
    occurred_at: datetime.datetime | None = None,
) -> AuditEvent:
    """Insert one audit event in the caller's transaction (it rolls back with it).

    ``target`` is a model instance or a ``(type, id)`` pair. Who/where comes from the request
    context the middleware bound unless ``context`` is given. After the commit, sealing is
    queued. Raises ``ValueError`` for an unknown action and ``AuditDataError`` for data that
    cannot be stored faithfully (floats, secrets, NUL characters).
    """
    event = _audit_event_build(
        action=action,
        actor=actor,
        organization=organization,
        target=target,
        data=data,
        context=context,
        occurred_at=occurred_at,
    )
    event.save(force_insert=True)
    transaction.on_commit(_queue_seal)
    return event


def audit_events_record(*, events: list[dict]) -> list[int]:
    """``audit_event_record`` for many events (each a dict of its keyword arguments), inserted in
    one statement, in order; sealing is queued once after the commit. Returns the events' ids.
    Checks every event before writing any."""
    built = [_audit_event_build(**event) for event in events]
    if not built:
        return []
    AuditEvent.objects.bulk_create(built)
    transaction.on_commit(_queue_seal)
    return [event.pk for event in built]


def _queue_seal() -> None:
    """Ask for a seal unless one is already queued; a lost request only delays sealing to the sweep."""
    try:
        if not cache.add(SEAL_QUEUED_KEY, 1, timeout=30):
            return
    except Exception:  # A cache outage must not stop the request; queue anyway.
        logger.warning("cache unavailable; queueing an audit seal without de-duplication")
    publish_safely(audit_seal_task)
