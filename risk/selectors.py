"""Reads of the risk engine: the detectors' history of a batch of sign-ins, the open question
behind a "was this you?" link, and the certificates a misused account may sign with."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import KnownPlace, SignInEvent, SignInReview, User
from risk import queries
from risk.history import History, OtherUse, Place
from signatures.models import Certificate

SUCCEEDED = SignInEvent.Outcome.SUCCEEDED
# Other enterprises kept per sign-in: the detectors name a few and count them; a device seen by
# more than this many enterprises has long since said what it has to say.
OTHERS_KEPT = 100


def _as_datetime(value) -> datetime.datetime | None:
    """A timestamp from raw SQL: PostgreSQL returns aware datetimes, SQLite strings in UTC."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = parse_datetime(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.UTC)


def _history_of(event: SignInEvent, rows, known: list[tuple[str, str]] | None) -> History:
    """Builds one sign-in's ``History`` from the rows of its history (``risk.queries``) and its
    confirmed places."""
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
        elif len(others) < OTHERS_KEPT:
            others.append(
                OtherUse(
                    organization_id=org_id,
                    tax_code=tax_code,
                    kind=kind,
                    by_device=bool(dev),
                    by_network=bool(net),
                    last_seen=_as_datetime(last),
                    network_signins=int(count or 0),
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
        account_created_at=event.user.date_joined if event.user_id is not None else None,
    )


def _needs_known_places(event: SignInEvent, rows) -> bool:
    """Confirmed places matter only when the event's device or network is otherwise new."""
    places = [row for row in rows if row[0] == "user" and row[1] == SUCCEEDED]
    return bool(places) and (
        event.device_id not in {row[3] for row in places} or event.network not in {row[4] for row in places}
    )


def risk_histories_get(*, events: list[SignInEvent]) -> dict[int, History]:
    """What the detectors need about each sign-in's past, ``{event id: History}``: one statement
    for the whole batch (``risk.queries``), and one more, rare, for the places the users confirmed
    where a sign-in's device or network is otherwise new. Each sign-in comes with its user
    (``select_related``): when the account was created counts for ``dormant_account``."""
    rows_of = queries.history_rows(events)
    # Per sign-in: another sign-in of the same user may not need them.
    needing = {event.id for event in events if _needs_known_places(event, rows_of[event.id])}
    known: dict[int, list[tuple[str, str]]] = {}
    if needing:
        users = {event.user_id for event in events if event.id in needing}
        for user_id, kind, value in KnownPlace.objects.filter(user_id__in=users).values_list(
            "user_id", "kind", "value"
        ):
            known.setdefault(user_id, []).append((kind, value))
    return {
        event.id: _history_of(
            event, rows_of[event.id], known.get(event.user_id, []) if event.id in needing else None
        )
        for event in events
    }


def signin_review_for_token(*, review_id: int, nonce: str) -> SignInReview | None:
    return (
        SignInReview.objects.select_related("event", "event__user", "recipient")
        .filter(pk=review_id, nonce=nonce)
        .first()
    )


def certificates_signable_by(*, user: User) -> list[Certificate]:
    """The active certificates ``user`` may sign with: those involved if the account is misused."""
    return list(Certificate.objects.filter(custodians=user, status=Certificate.Status.ACTIVE))
