"""The breach-corpus check a worker runs after a password is set (``evaluate_password_breach``)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.breach_corpus import is_breached
from accounts.models import Notification, User
from audit.models import Action
from audit.services.events import audit_event_record


@transaction.atomic
def password_breach_check(*, user_id: int, sha1: str, changed_at: str) -> Notification | None:
    """Force a change at next sign-in when the password set at ``changed_at`` is in the breach
    corpus; records ``password.breached`` and tells the user in the portal. Returns that notice
    (its email is the task's to queue), or ``None`` when nothing changed: the password was changed
    again since, or the flag is already set (a redelivered task is harmless)."""
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None or user.password_changed_at is None or user.password_changed_at.isoformat() != changed_at:
        return None
    if user.must_change_password or not is_breached(sha1, settings.BREACHED_PASSWORDS_PATH):
        return None
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    audit_event_record(
        action=Action.PASSWORD_BREACHED,
        actor=None,
        organization=user.organization,
        target=user,
        data={"corpus": "configured"},
    )
    # The row only, as notification_send writes it: this module is the work of a task, and the
    # email task is queued by the task itself (accounts.services.notifications imports the tasks).
    return Notification.objects.create(
        user=user, kind=Notification.Kind.PASSWORD_BREACHED, params={"username": user.username}
    )
