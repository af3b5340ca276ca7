from __future__ import annotations

from django.db import transaction

from audit.models import Action, AuditEvent
from audit.services.events import audit_event_record


def record_many(count: int, *, organization=None, start: int = 0) -> list[AuditEvent]:
    with transaction.atomic():
        return [
            audit_event_record(
                action=Action.ORGANIZATION_CREATED, organization=organization, data={"n": start + i}
            )
            for i in range(count)
        ]
