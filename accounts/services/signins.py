"""Sign-in attempts and lock-outs: recorded with where they came from, audited, and announced
(``accounts.signals.signin_recorded``) for whoever evaluates them."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress

from django.db import transaction
from django.utils import timezone

from accounts.devices import describe_user_agent
from accounts.models import Lockout, Notification, SignInEvent, User
from accounts.services.notifications import notification_email_queue, notification_send
from accounts.signals import signin_recorded
from audit.models import Action
from audit.services.events import audit_event_record
from core.context import current_context, normalise_ip


def network_of(ip: str | None) -> str:
    """The network a sign-in came from: /24 for IPv4, /48 for IPv6 (DESIGN §9)."""
    if not ip:
        return ""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def username_digest(username: str) -> str:
    return hashlib.sha256((username or "").strip().lower().encode("utf-8")).hexdigest()


@transaction.atomic
def signin_record(
    *,
    user: User | None,
    username: str,
    succeeded: bool,
    device_id: str = "",
    factor: str = SignInEvent.Factor.PASSWORD,
) -> SignInEvent:
    """Record one sign-in attempt with where it came from (the bound request context), and its
    audit event in the same transaction. ``user`` is the account the name matched, if any. A
    success from a device this account never used before is told to its user. Sends
    ``signin_recorded`` inside the transaction."""
    context = current_context()
    ip = normalise_ip(context.ip)
    device_id = device_id[:64]
    new_device = (
        succeeded
        and user is not None
        and bool(device_id)
        and SignInEvent.objects.filter(user=user, outcome=SignInEvent.Outcome.SUCCEEDED).exists()
        and not SignInEvent.objects.filter(
            user=user, outcome=SignInEvent.Outcome.SUCCEEDED, device_id=device_id
        ).exists()
    )
    event = SignInEvent.objects.create(
        user=user,
        organization=user.organization if user else None,
        username_digest=username_digest(username),
        channel=context.channel
        if context.channel in SignInEvent.Channel.values
        else SignInEvent.Channel.PORTAL,
        outcome=SignInEvent.Outcome.SUCCEEDED if succeeded else SignInEvent.Outcome.FAILED,
        factor=factor,
        ip=ip,
        network=network_of(ip),
        user_agent=context.user_agent[:512],
        device_id=device_id,
        occurred_at=timezone.now(),
    )
    audit_event_record(
        action=Action.SIGNIN_SUCCEEDED if succeeded else Action.SIGNIN_FAILED,
        actor=user if succeeded else None,
        organization=event.organization,
        target=event,
        data={
            "user": str(user.pk) if user else None,
            "device": event.device_id,
            "network": event.network,
            "factor": factor,
        },
    )
    notice = None
    if new_device:
        notice = notification_send(
            user=user,
            kind=Notification.Kind.NEW_DEVICE,
            email=False,
            device=describe_user_agent(event.user_agent),
            network=event.network or "?",
            # What the risk engine later says of this sign-in replaces this notice (one per sign-in).
            signin=event.pk,
        )
    # Announced for whoever evaluates sign-ins (the risk engine); nothing here waits for an answer.
    signin_recorded.send(sender=SignInEvent, event=event)
    if notice is not None:
        # Queued after the announcement, so after the evaluation its listener queues: where tasks
        # run eagerly the evaluation (and any notice replacing this one) comes first, and with
        # workers the email waits for it (``notification_email_wait``). One sign-in, one email.
        notification_email_queue(notification=notice)
    return event


@transaction.atomic
def lockout_record(*, username: str, ip: str | None, cool_off: datetime.timedelta) -> Lockout | None:
    """django-axes locked ``username`` at ``ip`` for ``cool_off``: keep it (it lengthens the next
    cool-off), audit it and tell the account's user, if the name is an account. A lock-out
    recorded within the current cool-off is the same one: attempts while locked do not multiply it."""
    digest = username_digest(username)
    ip = normalise_ip(ip)
    recent = timezone.now() - cool_off
    if Lockout.objects.filter(username_digest=digest, ip=ip, locked_at__gte=recent).exists():
        return None
    user = User.objects.filter(username=username).first() if username else None
    lockout = Lockout.objects.create(username_digest=digest, ip=ip, user=user)
    audit_event_record(
        action=Action.SIGNIN_LOCKED,
        actor=None,
        organization=user.organization if user else None,
        target=lockout,
        data={"user": str(user.pk) if user else None, "network": network_of(ip)},
    )
    if user is not None:
        notification_send(user=user, kind=Notification.Kind.LOCKED_OUT)
    return lockout
