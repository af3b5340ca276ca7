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
from core.queries import IdsFirst

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


def signin_pages(events: QuerySet[SignInEvent]) -> IdsFirst:
    """``events`` a page at a time: an enterprise has a handful of sign-ins or hundreds of
    thousands, so the page's ids are planned for this one (core.queries.IdsFirst)."""
    return IdsFirst(events, rows=SignInEvent.objects.select_related("user"))


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


def _history_of(event: SignInEvent, rows, known: list[tuple[str, str]] | None, created_at) -> History:
    """Builds one sign-in's ``History`` from the rows of its history parts (the columns of
    ``_USER_PART``, ``_SPRAY_PART``, ``_OTHERS_PART``) and its confirmed places."""
    places: list[Place] = []
    others: list[OtherUse] = []
    last_success_at = None
    password_failures = second_factor_failures = spray_names = 0
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
    known = known or []
    return History(
        places=tuple(places),
        last_success_at=last_success_at,
        known_devices=frozenset(v for k, v in known if k == KnownPlace.Kind.DEVICE),
        known_networks=frozenset(v for k, v in known if k == KnownPlace.Kind.NETWORK),
        password_failures=password_failures,
        second_factor_failures=second_factor_failures,
        spray_names=spray_names,
        others=tuple(others),
        account_created_at=created_at,
    )


def _needs_known_places(event: SignInEvent, rows) -> bool:
    """Confirmed places matter only when the event's device or network is otherwise new."""
    places = [row for row in rows if row[0] == "user" and row[1] == SUCCEEDED]
    return bool(places) and (
        event.device_id not in {row[3] for row in places} or event.network not in {row[4] for row in places}
    )


def risk_history_get(*, event: SignInEvent, created_at: datetime.datetime | None = None) -> History:
    """What the detectors need about ``event``'s past: one round trip (a second, rare one for the
    places the user confirmed). "Before" means recorded before it (a smaller id), not stamped
    earlier: two web servers' clocks may disagree, the database's sequence does not. Windows are
    measured on ``occurred_at``. ``created_at``, when the account was created, is read from
    ``event.user`` unless given."""
    sql, params = _history_parts(event)
    rows = []
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    known = None
    if _needs_known_places(event, rows):
        known = list(KnownPlace.objects.filter(user_id=event.user_id).values_list("kind", "value"))
    if created_at is None and event.user_id is not None:
        created_at = event.user.date_joined
    return _history_of(event, rows, known, created_at)


# The batch's history on PostgreSQL: the parts of ``_history_parts`` for every sign-in of the batch
# in one statement, each part a LATERAL subquery over the batch passed as arrays (so the text is
# the same for every batch and the planner sees each sign-in's values as parameters of a nested
# loop). Each part is served by the same index as for one sign-in: the user's by
# signin_user_recent, the spray count by signin_network_recent, other enterprises' use by
# signin_device_recent and signin_network_recent (two index scans instead of one BitmapOr, whose
# parameterised form the planner does not consider). A part that does not apply to a sign-in
# (the spray count of a success) is cut by a one-time filter on the sign-in's own columns.
# The arrays travel in binary (%b): psycopg writes a text array element by element in Python,
# some 3 ms for a batch of 100, against 0.4 ms in binary.
_BATCH_HISTORY = """
    SELECT ev.id, h.*
    FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[], %b::text[], %b::text[], %b::text[],
                %b::timestamptz[], %b::timestamptz[], %b::timestamptz[], %b::timestamptz[])
         AS ev(id, user_id, organization_id, outcome, device_id, network,
               brute_since, memory_since, spray_since, lookback_since)
    CROSS JOIN LATERAL (
        SELECT 'user' AS part, e.outcome, e.factor, e.device_id, e.network, NULL::bigint AS org,
               NULL::text AS tax_code, NULL::text AS kind, MAX(e.occurred_at) AS last, COUNT(*) AS count,
               SUM(CASE WHEN e.occurred_at >= ev.brute_since THEN 1 ELSE 0 END) AS recent,
               0 AS by_device, 0 AS by_network
        FROM accounts_signinevent e
        WHERE e.user_id = ev.user_id AND e.occurred_at >= ev.memory_since AND e.id < ev.id
        GROUP BY e.outcome, e.factor, e.device_id, e.network
        UNION ALL
        SELECT 'spray', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COUNT(DISTINCT e.username_digest),
               0, 0, 0
        FROM accounts_signinevent e
        WHERE ev.outcome = 'failed' AND ev.network <> '' AND e.network = ev.network
              AND e.outcome = 'failed' AND e.occurred_at >= ev.spray_since AND e.id <= ev.id
        UNION ALL
        SELECT 'others', NULL, NULL, NULL, NULL, g.organization_id,
               (SELECT o.tax_code FROM accounts_organization o WHERE o.id = g.organization_id),
               (SELECT o.kind FROM accounts_organization o WHERE o.id = g.organization_id),
               g.last, 0, 0, g.by_device, g.by_network
        FROM (
            SELECT u.organization_id, MAX(u.occurred_at) AS last, MAX(u.by_device) AS by_device,
                   MAX(u.by_network) AS by_network
            FROM (
                SELECT e.organization_id, e.occurred_at, 1 AS by_device,
                       CASE WHEN ev.network <> '' AND e.network = ev.network THEN 1 ELSE 0 END AS by_network
                FROM accounts_signinevent e
                WHERE ev.outcome = 'succeeded' AND ev.device_id <> '' AND e.device_id = ev.device_id
                      AND e.outcome = 'succeeded' AND e.organization_id IS NOT NULL
                      AND e.organization_id IS DISTINCT FROM ev.organization_id
                      AND e.occurred_at >= ev.lookback_since AND e.id < ev.id
                UNION ALL
                SELECT e.organization_id, e.occurred_at,
                       CASE WHEN ev.device_id <> '' AND e.device_id = ev.device_id THEN 1 ELSE 0 END, 1
                FROM accounts_signinevent e
                WHERE ev.outcome = 'succeeded' AND ev.network <> '' AND e.network = ev.network
                      AND e.outcome = 'succeeded' AND e.organization_id IS NOT NULL
                      AND e.organization_id IS DISTINCT FROM ev.organization_id
                      AND e.occurred_at >= ev.lookback_since AND e.id < ev.id
            ) u
            GROUP BY u.organization_id
            LIMIT 100
        ) g
    ) h
"""


def _batch_history_params(events: list[SignInEvent]) -> list:
    columns: list[list] = [[] for _ in range(10)]
    for event in events:
        at = event.occurred_at
        values = (
            event.id,
            event.user_id,
            event.organization_id,
            event.outcome,
            event.device_id or "",
            event.network or "",
            at - datetime.timedelta(minutes=settings.RISK_BRUTE_FORCE_MINUTES),
            at - datetime.timedelta(days=settings.RISK_DEVICE_MEMORY_DAYS),
            at - datetime.timedelta(minutes=settings.RISK_SPRAY_MINUTES),
            at - datetime.timedelta(days=settings.RISK_LOOKBACK_DAYS),
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns


def risk_histories_get(*, events: list[SignInEvent], created_at: dict[int, datetime.datetime]) -> dict:
    """``risk_history_get`` for many sign-ins at once: ``{event id: History}``. On PostgreSQL one
    statement for the whole batch (and one more, rare, for confirmed places); elsewhere (SQLite,
    for development) one ``risk_history_get`` per sign-in. ``created_at`` maps each user id to
    when the account was created (``dormant_account`` for an account never used)."""
    if connection.vendor != "postgresql":
        return {
            event.id: risk_history_get(event=event, created_at=created_at.get(event.user_id))
            for event in events
        }
    rows_of: dict[int, list] = {event.id: [] for event in events}
    if events:
        with connection.cursor() as cursor:
            cursor.execute(_BATCH_HISTORY, _batch_history_params(events))
            for row in cursor.fetchall():
                rows_of[row[0]].append(row[1:])
    # Per sign-in, as risk_history_get decides: another sign-in of the same user may not need them.
    needing = {event.id for event in events if _needs_known_places(event, rows_of[event.id])}
    known: dict[int, list[tuple[str, str]]] = {}
    if needing:
        users = {event.user_id for event in events if event.id in needing}
        for user_id, kind, value in KnownPlace.objects.filter(user_id__any=users).values_list(
            "user_id", "kind", "value"
        ):
            known.setdefault(user_id, []).append((kind, value))
    return {
        event.id: _history_of(
            event,
            rows_of[event.id],
            known.get(event.user_id, []) if event.id in needing else None,
            created_at.get(event.user_id),
        )
        for event in events
    }


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
