"""Passwords: setting one under the whole policy, and queueing its check against the breach
corpus (``accounts.services.breaches`` does the check on a worker)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification, PasswordHistory, User
from accounts.services.notifications import notification_send
from accounts.tasks import evaluate_password_breach_task
from audit.models import Action
from audit.services.events import audit_event_record
from core.tasks import enqueue_on_commit


@transaction.atomic
def password_set(*, user: User, password: str, actor: User | None) -> User:
    """Give ``user`` a new password after every policy rule (including the last five, reversed or
    not) has passed. The replaced hash joins the history, which keeps ``PASSWORD_HISTORY`` - 1
    entries; records ``password.changed`` (without the password). Raises ``ValidationError``."""
    validate_password(password, user)
    previous = User.objects.select_for_update().values_list("password", flat=True).get(pk=user.pk)
    if previous and is_password_usable(previous):
        PasswordHistory.objects.create(user=user, password=previous)
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[
            max(settings.PASSWORD_HISTORY - 1, 0) :
        ]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.must_change_password = False
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    queue_breach_check(user, password)
    audit_event_record(
        action=Action.PASSWORD_CHANGED,
        actor=actor,
        organization=user.organization,
        target=user,
        data={"by_self": actor is not None and actor.pk == user.pk},
    )
    notification_send(user=user, kind=Notification.Kind.PASSWORD_CHANGED)
    return user


def queue_breach_check(user: User, password: str) -> None:
    """After the commit, a worker looks the password's SHA-1 up in the breach corpus. The
    plaintext stays in this request; breach corpora are published as SHA-1, hence SHA-1 here."""
    if not settings.BREACHED_PASSWORDS_PATH:
        return
    sha1 = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    enqueue_on_commit(evaluate_password_breach_task, user.pk, sha1, user.password_changed_at.isoformat())
