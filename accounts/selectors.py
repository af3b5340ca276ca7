"""Reads for accounts, scoped to the reader: sign-in history, sessions, staff, notifications."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_datetime

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
    # Newest first (the model's ordering) through the index signin_user_recent (user, -occurred_at).
    return SignInEvent.objects.filter(user=user).select_related("user")


def signin_list_for_organization(*, viewer: User) -> QuerySet[SignInEvent]:
    """Every sign-in in the viewer's enterprise; only its owner and administrators may see it."""
    if viewer.organization_id is None or viewer.role not in MANAGERS:
        return SignInEvent.objects.none()
    # Newest first through the index signin_org_recent (organization, -occurred_at): the page reads
    # its rows from the index in order; a large enterprise has hundreds of thousands.
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


def signins_per_day(*, since: datetime.date) -> list[tuple[datetime.date, str, str, int]]:
    """Sign-ins per local day on every channel: ``(day, channel, outcome, count)`` (officer dashboard)."""
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=timezone.get_current_timezone())
    rows = (
        SignInEvent.objects.filter(occurred_at__gte=start)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "channel", "outcome")
        .annotate(count=Count("id"))
        .order_by("day", "channel", "outcome")
    )
    return list(rows)


# --- risk engine ---------------------------------------------------------------------------------

SUCCEEDED = SignInEvent.Outcome.SUCCEEDED
FAILED = SignInEvent.Outcome.FAILED


def _as_datetime(value) -> datetime.datetime | None:
    """A timestamp from raw SQL: PostgreSQL returns aware datetimes, SQLite strings in UTC."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = parse_datetime(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.UTC)


# The history is read on every sign-in, so it is one round trip of hand-written SQL: a UNION ALL
# of the parts this event needs, each served by its own index (bench/risk_eval.py prints the
# plans). The ORM's compilation and one round trip per part cost several times the queries'
# own execution. Portable SQL: PostgreSQL, and SQLite for development.
# Columns: part, outcome, factor, device_id, network, organization_id, tax_code, kind, last,
# count, recent, by_device, by_network.
_USER_PART = """
    SELECT 'user', outcome, factor, device_id, network, NULL, NULL, NULL, MAX(occurred_at), COUNT(*),
           SUM(CASE WHEN occurred_at >= %s THEN 1 ELSE 0 END), 0, 0
    FROM accounts_signinevent
    WHERE user_id = %s AND occurred_at >= %s AND id < %s
    GROUP BY outcome, factor, device_id, network
"""
_SPRAY_PART = """
    SELECT 'spray', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COUNT(DISTINCT username_digest), 0, 0, 0
    FROM accounts_signinevent
    WHERE network = %s AND outcome = 'failed' AND occurred_at >= %s AND id <= %s
"""
# Grouped first, then each organisation looked up by its primary key (a join planned as a hash
# join would read the whole organisation table on every sign-in).
_OTHERS_PART = """
    SELECT 'others', NULL, NULL, NULL, NULL, g.organization_id,
           (SELECT o.tax_code FROM accounts_organization o WHERE o.id = g.organization_id),
           (SELECT o.kind FROM accounts_organization o WHERE o.id = g.organization_id),
           g.last, 0, 0, g.by_device, g.by_network
    FROM (
        SELECT e.organization_id, MAX(e.occurred_at) AS last,
               SUM(CASE WHEN e.device_id = %s THEN 1 ELSE 0 END) AS by_device,
               SUM(CASE WHEN e.network = %s THEN 1 ELSE 0 END) AS by_network
        FROM accounts_signinevent e
        WHERE ({places}) AND e.outcome = 'succeeded' AND e.organization_id IS NOT NULL
              AND e.occurred_at >= %s AND e.id < %s {not_mine}
        GROUP BY e.organization_id
        LIMIT 100
    ) g
"""


def _history_parts(event: SignInEvent) -> tuple[str, list]:
    at = event.occurred_at
    adapt = connection.ops.adapt_datetimefield_value
    parts: list[str] = []
    params: list = []
    if event.user_id is not None:
        # Served by the index on user_id (and signin_user_recent).
        parts.append(_USER_PART)
        params += [
            adapt(at - datetime.timedelta(minutes=settings.RISK_BRUTE_FORCE_MINUTES)),
            event.user_id,
            adapt(at - datetime.timedelta(days=settings.RISK_DEVICE_MEMORY_DAYS)),
            event.id,
        ]
    if event.outcome == FAILED and event.network:
        # Served by signin_network_recent (network, -occurred_at).
        parts.append(_SPRAY_PART)
        params += [
            event.network,
            adapt(at - datetime.timedelta(minutes=settings.RISK_SPRAY_MINUTES)),
            event.id,
        ]
    if event.outcome == SUCCEEDED and (event.device_id or event.network):
        # A BitmapOr of signin_device_recent and signin_network_recent. An empty device id or
        # network is no evidence of a shared place, so it is never matched.
        places = []
        place_params = []
        if event.device_id:
            places.append("e.device_id = %s")
            place_params.append(event.device_id)
        if event.network:
            places.append("e.network = %s")
            place_params.append(event.network)
        parts.append(
            _OTHERS_PART.format(
                places=" OR ".join(places),
                not_mine="AND e.organization_id <> %s" if event.organization_id is not None else "",
            )
        )
        params += [
            event.device_id or None,
            event.network or None,
            *place_params,
            adapt(at - datetime.timedelta(days=settings.RISK_LOOKBACK_DAYS)),
            event.id,
            *([event.organization_id] if event.organization_id is not None else []),
        ]
    return " UNION ALL ".join(parts), params


def risk_history_get(*, event: SignInEvent) -> History:
    """What the detectors need about ``event``'s past: one round trip (a second, rare one for the
    places the user confirmed). "Before" means recorded before it (a smaller id), not stamped
    earlier: two web servers' clocks may disagree, the database's sequence does not. Windows are
    measured on ``occurred_at``."""
    places: list[Place] = []
    others: list[OtherUse] = []
    last_success_at = None
    password_failures = second_factor_failures = spray_names = 0
    known_devices: frozenset[str] = frozenset()
    known_networks: frozenset[str] = frozenset()
    sql, params = _history_parts(event)
    rows = []
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    for (
        part,
        outcome,
        factor,
        device_id,
        network,
        org_id,
        tax_code,
        kind,
        last,
        count,
        recent,
        dev,
        net,
    ) in rows:
        if part == "user":
            if outcome == SUCCEEDED:
                last = _as_datetime(last)
                places.append(Place(device_id, network, last, count))
                if last_success_at is None or last > last_success_at:
                    last_success_at = last
            elif factor == SignInEvent.Factor.SECOND_FACTOR:
                second_factor_failures += recent or 0
            else:
                password_failures += recent or 0
        elif part == "spray":
            spray_names = count or 0
        else:
            others.append(
                OtherUse(
                    organization_id=org_id,
                    tax_code=tax_code,
                    kind=kind,
                    by_device=bool(dev),
                    by_network=bool(net),
                    last_seen=_as_datetime(last),
                )
            )
    # Confirmed places matter only when the event's device or network is otherwise new.
    if places and (
        event.device_id not in {p.device_id for p in places}
        or event.network not in {p.network for p in places}
    ):
        known = list(KnownPlace.objects.filter(user_id=event.user_id).values_list("kind", "value"))
        known_devices = frozenset(v for k, v in known if k == KnownPlace.Kind.DEVICE)
        known_networks = frozenset(v for k, v in known if k == KnownPlace.Kind.NETWORK)
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


def signin_unevaluated_ids(*, older_than: datetime.datetime, after: int = 0, limit: int = 500) -> list[int]:
    """Sign-ins still unevaluated, oldest first (served by the partial index signin_unevaluated)."""
    return list(
        SignInEvent.objects.filter(evaluated_at__isnull=True, occurred_at__lt=older_than, id__gt=after)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def signin_review_for_token(*, review_id: int, nonce: str) -> SignInReview | None:
    return (
        SignInReview.objects.select_related("event", "event__user", "recipient")
        .filter(pk=review_id, nonce=nonce)
        .first()
    )
