"""The risk engine's hand-written SQL, all of it: the history of a batch of sign-ins, and the
statement that writes the batch's results.

The history is read for every sign-in, so it is one round trip for the whole batch: the batch
travels as a ``VALUES`` list (``ev``), and each part of a sign-in's history is a join of that list
with the sign-in table, served by its own covering index, so that the parts are index-only scans
in a nested loop over the batch (``bench/risk_eval.py`` prints the plans). Through the ORM each
part would be a round trip of its own. Portable SQL: PostgreSQL, and SQLite for
development. "Before" a sign-in means recorded before it (a smaller id), not stamped earlier: two
web servers' clocks may disagree, the database's sequence does not. Windows are measured on
``occurred_at``.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection

from accounts.models import SignInEvent

# One row per sign-in of the batch: its id, user, organisation, outcome, device and network, and
# where each window starts. The ids are cast so that PostgreSQL types the list the same way
# whatever the first row holds (an anonymous failure has no user).
_EVENT = "(CAST(%s AS bigint), CAST(%s AS bigint), CAST(%s AS bigint), %s, %s, %s, %s, %s, %s, %s)"

# Columns of every row: event id, part, outcome, factor, device_id, network, organization_id,
# tax_code, kind, last, count, recent, by_device, by_network. For another enterprise, ``count`` is
# how many times its people signed in from the event's network: an office network is used
# again and again by the enterprise it belongs to, a carrier's shared address by many, a few
# times each.
_HISTORY = """
    WITH ev(id, user_id, organization_id, outcome, device_id, network,
            brute_since, memory_since, spray_since, lookback_since) AS (VALUES {events})
    -- The account's own sign-ins (signin_user_recent), by outcome, proof, device and network.
    SELECT ev.id, 'user', e.outcome, e.factor, e.device_id, e.network, CAST(NULL AS bigint), NULL, NULL,
           MAX(e.occurred_at), COUNT(*), SUM(CASE WHEN e.occurred_at >= ev.brute_since THEN 1 ELSE 0 END),
           0, 0
    FROM ev JOIN accounts_signinevent e
         ON e.user_id = ev.user_id AND e.occurred_at >= ev.memory_since AND e.id < ev.id
    GROUP BY ev.id, e.outcome, e.factor, e.device_id, e.network
    UNION ALL
    -- A failure's network: how many account names failed from it (signin_network_recent).
    SELECT ev.id, 'spray', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COUNT(DISTINCT e.username_digest),
           0, 0, 0
    FROM ev JOIN accounts_signinevent e
         ON e.network = ev.network AND e.outcome = 'failed' AND e.occurred_at >= ev.spray_since
            AND e.id <= ev.id
    WHERE ev.outcome = 'failed' AND ev.network <> ''
    GROUP BY ev.id
    UNION ALL
    -- A success's device and network: other enterprises whose people used them
    -- (signin_device_recent, signin_network_recent). An empty device id or network is no evidence
    -- of a shared place, so it is never matched. Grouped first, then each organisation read by its
    -- primary key (a join planned as a hash join would read the whole organisation table).
    SELECT g.id, 'others', NULL, NULL, NULL, NULL, g.organization_id,
           (SELECT o.tax_code FROM accounts_organization o WHERE o.id = g.organization_id),
           (SELECT o.kind FROM accounts_organization o WHERE o.id = g.organization_id),
           g.last, g.network_signins, 0, g.by_device, g.by_network
    FROM (
        SELECT u.id, u.organization_id, MAX(u.occurred_at) AS last, MAX(u.by_device) AS by_device,
               MAX(u.by_network) AS by_network, SUM(u.from_network) AS network_signins
        FROM (
            SELECT ev.id, e.organization_id, e.occurred_at, 1 AS by_device,
                   CASE WHEN ev.network <> '' AND e.network = ev.network THEN 1 ELSE 0 END AS by_network,
                   0 AS from_network
            FROM ev JOIN accounts_signinevent e ON e.device_id = ev.device_id
            WHERE ev.outcome = 'succeeded' AND ev.device_id <> '' AND e.outcome = 'succeeded'
                  AND e.organization_id IS NOT NULL
                  AND (ev.organization_id IS NULL OR e.organization_id <> ev.organization_id)
                  AND e.occurred_at >= ev.lookback_since AND e.id < ev.id
            UNION ALL
            SELECT ev.id, e.organization_id, e.occurred_at,
                   CASE WHEN ev.device_id <> '' AND e.device_id = ev.device_id THEN 1 ELSE 0 END, 1, 1
            FROM ev JOIN accounts_signinevent e ON e.network = ev.network
            WHERE ev.outcome = 'succeeded' AND ev.network <> '' AND e.outcome = 'succeeded'
                  AND e.organization_id IS NOT NULL
                  AND (ev.organization_id IS NULL OR e.organization_id <> ev.organization_id)
                  AND e.occurred_at >= ev.lookback_since AND e.id < ev.id
        ) u
        GROUP BY u.id, u.organization_id
    ) g
"""


def _event_params(event: SignInEvent) -> list:
    at = event.occurred_at
    adapt = connection.ops.adapt_datetimefield_value
    return [
        event.id,
        event.user_id,
        event.organization_id,
        event.outcome,
        event.device_id or "",
        event.network or "",
        adapt(at - datetime.timedelta(minutes=settings.RISK_BRUTE_FORCE_MINUTES)),
        adapt(at - datetime.timedelta(days=settings.RISK_DEVICE_MEMORY_DAYS)),
        adapt(at - datetime.timedelta(minutes=settings.RISK_SPRAY_MINUTES)),
        adapt(at - datetime.timedelta(days=settings.RISK_LOOKBACK_DAYS)),
    ]


def history_rows(events: list[SignInEvent]) -> dict[int, list[tuple]]:
    """The rows of each sign-in's history, ``{event id: [row without the id, ...]}`` (the columns
    of ``_HISTORY`` after the first), in one statement for the whole batch."""
    rows: dict[int, list[tuple]] = {event.id: [] for event in events}
    if not events:
        return rows
    params = [value for event in events for value in _event_params(event)]
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY.format(events=", ".join([_EVENT] * len(events))), params)
        for row in cursor.fetchall():
            rows[row[0]].append(row[1:])
    return rows
