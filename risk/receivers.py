"""What the risk engine does when a lower app tells it something happened."""

from __future__ import annotations

from django.dispatch import receiver

from accounts.signals import signin_recorded
from core.tasks import enqueue_on_commit
from risk.tasks import evaluate_sign_in_task


@receiver(signin_recorded, dispatch_uid="risk.signin_recorded")
def _signin_recorded(sender, event, **_kwargs) -> None:
    """After the commit, evaluate the sign-in on the ``risk`` queue; a broker outage is logged
    (without secrets: the task carries the event id only) and the sweep evaluates the sign-in
    later, so signing in never depends on Redis."""
    enqueue_on_commit(evaluate_sign_in_task, event.pk)
