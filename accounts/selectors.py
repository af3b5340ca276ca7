"""Reads for accounts, scoped to the reader: sign-in history, sessions, staff, notifications."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Count, Max, Q, QuerySet, Value
from django.utils import timezone

from accounts.models import (
    KnownPlace,
    Notification,
    SignInEvent,
    SignInReview,
    StaffInvitation,
    User,
    UserSession,
)
from accounts.risk.history import History, OtherUse, Place

MANAGERS = User.MANAGER_ROLES


def signin_list_for_user(*, user: User) -> QuerySet[SignInEvent]:
    return SignInEvent.objects.filter(user=user).select_related("user")


def signin_list_for_organization(*, viewer: User) -> QuerySet[SignInEvent]:
    """Every sign-in in the viewer's enterprise; only its owner and administrators may see it."""
    if viewer.organization_id is None or viewer.role not in MANAGERS:
        return SignInEvent.objects.none()
    return SignInEvent.objects.filter(organization_id=viewer.organization_id).select_related("user")


def session_list_for_user(*, user: User) -> QuerySet[UserSession]:
    """The user's portal sessions that still exist in the session store and have not expired."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=live)


def staff_list(*, viewer: User) -> QuerySet[User]:
    """Everyone in the viewer's enterprise, for its owner and administrators; nothing for others."""
    if not viewer.is_manager:
        return User.objects.none()
    return User.objects.filter(organization_id=viewer.organization_id).order_by(
        "-is_active", "last_name", "pk"
    )


def staff_member(*, viewer: User, pk: int) -> User | None:
    """A member of the viewer's own enterprise, or ``None``: another enterprise's people are not found."""
    return staff_list(viewer=viewer).filter(pk=pk).first()


def invitation_list(*, viewer: User) -> QuerySet[StaffInvitation]:
    if not viewer.is_manager:
        return StaffInvitation.objects.none()
    return StaffInvitation.objects.filter(
        organization_id=viewer.organization_id, status=StaffInvitation.Status.PENDING
    ).select_related("invited_by")


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_notification_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- risk engine ---------------------------------------------------------------------------------

SUCCEEDED = SignInEvent.Outcome.SUCCEEDED
FAILED = SignInEvent.Outcome.FAILED


def risk_history_get(*, event: SignInEvent) -> History:
    """What the detectors need about ``event``'s past, in at most four indexed queries. "Before"
    means recorded before it (a smaller id), not stamped earlier: two web servers' clocks may
    disagree, the database's sequence does not. Windows are measured on ``occurred_at``."""
    at = event.occurred_at
    places: list[Place] = []
    last_success_at = None
    password_failures = second_factor_failures = 0
    known_devices: frozenset[str] = frozenset()
    known_networks: frozenset[str] = frozenset()
    if event.user_id is not None:
        # Served by signin_user_recent (user, -occurred_at).
        brute_since = at - datetime.timedelta(minutes=settings.RISK_BRUTE_FORCE_MINUTES)
        rows = (
            SignInEvent.objects.filter(
                user_id=event.user_id,
                occurred_at__gte=at - datetime.timedelta(days=settings.RISK_DEVICE_MEMORY_DAYS),
                id__lt=event.id,
            )
            .values("outcome", "factor", "device_id", "network")
            .annotate(
                last=Max("occurred_at"),
                n=Count("id"),
                recent=Count("id", filter=Q(occurred_at__gte=brute_since)),
            )
            .order_by()
        )
        for row in rows:
            if row["outcome"] == SUCCEEDED:
                places.append(Place(row["device_id"], row["network"], row["last"], row["n"]))
                if last_success_at is None or row["last"] > last_success_at:
                    last_success_at = row["last"]
            elif row["factor"] == SignInEvent.Factor.SECOND_FACTOR:
                second_factor_failures += row["recent"]
            else:
                password_failures += row["recent"]
        # Confirmed places matter only when the event's device or network is otherwise new.
        seen_devices = {p.device_id for p in places}
        seen_networks = {p.network for p in places}
        if places and (event.device_id not in seen_devices or event.network not in seen_networks):
            known = list(KnownPlace.objects.filter(user_id=event.user_id).values_list("kind", "value"))
            known_devices = frozenset(v for k, v in known if k == KnownPlace.Kind.DEVICE)
            known_networks = frozenset(v for k, v in known if k == KnownPlace.Kind.NETWORK)
    spray_names = 0
    if event.outcome == FAILED and event.network:
        # Served by signin_network_recent (network, -occurred_at).
        spray_names = (
            SignInEvent.objects.filter(
                network=event.network,
                outcome=FAILED,
                occurred_at__gte=at - datetime.timedelta(minutes=settings.RISK_SPRAY_MINUTES),
                id__lte=event.id,
            )
            .values("username_digest")
            .distinct()
            .count()
        )
    others: list[OtherUse] = []
    if event.outcome == SUCCEEDED and (event.device_id or event.network):
        # A BitmapOr of signin_device_recent and signin_network_recent.
        same_place = Q()
        if event.device_id:
            same_place |= Q(device_id=event.device_id)
        if event.network:
            same_place |= Q(network=event.network)
        query = SignInEvent.objects.filter(
            same_place,
            outcome=SUCCEEDED,
            organization__isnull=False,
            occurred_at__gte=at - datetime.timedelta(days=settings.RISK_LOOKBACK_DAYS),
            id__lt=event.id,
        )
        if event.organization_id is not None:
            query = query.exclude(organization_id=event.organization_id)
        rows = (
            query.values("organization_id", "organization__tax_code", "organization__kind")
            .annotate(
                by_device=Count("id", filter=Q(device_id=event.device_id)) if event.device_id else Value(0),
                by_network=Count("id", filter=Q(network=event.network)) if event.network else Value(0),
                last=Max("occurred_at"),
            )
            .order_by()[:100]
        )
        others = [
            OtherUse(
                organization_id=row["organization_id"],
                tax_code=row["organization__tax_code"],
                kind=row["organization__kind"],
                by_device=bool(row["by_device"]),
                by_network=bool(row["by_network"]),
                last_seen=row["last"],
            )
            for row in rows
        ]
    return History(
        places=tuple(places),
        last_success_at=last_success_at,
        known_devices=known_devices,
        known_networks=known_networks,
        password_failures=password_failures,
        second_factor_failures=second_factor_failures,
        spray_names=spray_names,
        others=tuple(others),
        account_created_at=event.user.date_joined if event.user_id is not None else None,
    )


def signin_unevaluated_ids(*, older_than: datetime.datetime, limit: int = 500) -> list[int]:
    """Sign-ins still unevaluated (served by the partial index signin_unevaluated)."""
    return list(
        SignInEvent.objects.filter(evaluated_at__isnull=True, occurred_at__lt=older_than)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def signin_review_for_token(*, review_id: int, nonce: str) -> SignInReview | None:
    return (
        SignInReview.objects.select_related("event", "event__user", "recipient")
        .filter(pk=review_id, nonce=nonce)
        .first()
    )
