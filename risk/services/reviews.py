""" "Was this you?": the questions about a risky sign-in, and their answers (DESIGN §9)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import KnownPlace, Notification, SignInEvent, SignInReview, User
from accounts.services.notifications import notifications_send
from accounts.services.sessions import sessions_end_all
from accounts.tokens import signin_review_read
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from audit.services.flags import flag_raise
from core.errors import ApplicationError
from risk.selectors import certificates_signable_by, signin_review_for_token
from signatures.services.misuse import abuse_report


def _now() -> datetime.datetime:
    return timezone.now()


def signin_review_ask(*, event: SignInEvent) -> list[SignInReview]:
    """Ask the account's user and their enterprise's owner (email and portal), each with their
    own single-use "this was me" / "this was not me" links."""
    return signin_reviews_ask(events=[event])


def signin_reviews_ask(*, events: list[SignInEvent]) -> list[SignInReview]:
    """``signin_review_ask`` for many sign-ins: the owners of all their enterprises read in one
    query, the questions and their notifications each inserted in one statement."""
    owners: dict[int, list[User]] = {}
    organizations = {event.organization_id for event in events if event.organization_id is not None}
    if organizations:
        for owner in User.objects.filter(
            organization_id__in=organizations, role=User.Role.OWNER, is_active=True
        ).order_by("pk"):
            owners.setdefault(owner.organization_id, []).append(owner)
    expires_at = _now() + datetime.timedelta(days=settings.RISK_REVIEW_DAYS)
    asked = [
        (event, recipient)
        for event in events
        for recipient in [event.user]
        + [owner for owner in owners.get(event.organization_id, []) if owner.pk != event.user_id]
    ]
    reviews = SignInReview.objects.bulk_create(
        SignInReview(event=event, recipient=recipient, expires_at=expires_at) for event, recipient in asked
    )
    notifications_send(
        items=[
            (
                recipient,
                Notification.Kind.SIGNIN_REVIEW,
                {
                    "review": review.pk,
                    "account": event.user.username,
                    "when": timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M"),
                    "network": event.network or "?",
                    "reasons": [reason["detector"] for reason in event.risk_reasons],
                    # Folds the sign-in's earlier notices (new device, protection taken) into this one.
                    "signin": event.pk,
                },
            )
            for review, (event, recipient) in zip(reviews, asked, strict=True)
        ]
    )
    return reviews


def _review_refused(*, reason: str, actor: User | None, review: SignInReview | None) -> ApplicationError:
    # Committed on its own (the caller raises, rolling back anything else): refusals are evidence.
    audit_event_record(
        action=Action.SIGNIN_REVIEW_REFUSED,
        actor=actor if actor is not None and actor.is_authenticated else None,
        organization=review.event.organization if review else None,
        target=review,
        data={"reason": reason},
    )
    messages = {
        "forged": gettext("This link is not valid."),
        "expired": gettext("This link has expired."),
        "used": gettext("This question has already been answered."),
        "not_yours": gettext("This question was sent to someone else. Sign in as its recipient."),
    }
    codes = {
        "forged": "link_invalid",
        "expired": "link_expired",
        "used": "link_used",
        "not_yours": "not_allowed",
    }
    return ApplicationError(
        messages[reason], code=codes[reason], status_code=403 if reason == "not_yours" else 400
    )


def signin_review_get(*, token: str, actor: User | None) -> SignInReview:
    """The open review behind a link, for ``actor`` (``None`` or anonymous: not signed in).
    A forged, expired, used or someone else's link is refused and recorded
    (``signin.review_refused``) before ``ApplicationError`` is raised."""
    try:
        payload = signin_review_read(token)
    except signing.BadSignature:
        payload = None
    if payload is None:
        with transaction.atomic():
            error = _review_refused(reason="forged", actor=actor, review=None)
        raise error
    review = signin_review_for_token(review_id=payload["r"], nonce=payload["n"])
    reason = None
    if review is None:
        reason = "forged"
    elif actor is not None and actor.is_authenticated and actor.pk != review.recipient_id:
        reason = "not_yours"
    elif review.answered_at is not None:
        reason = "used"
    elif review.expires_at <= _now():
        reason = "expired"
    if reason:
        with transaction.atomic():
            error = _review_refused(reason=reason, actor=actor, review=review)
        raise error
    return review


def signin_review_answer(*, token: str, answer: str, actor: User | None) -> SignInReview:
    """Answer a "was this you?" question once.

    "This was me" needs the recipient signed in (it lowers protection): it closes the event's
    low and medium flags (``answered``), remembers the device and network for the account and
    lifts a pending step-up. "This was not me" works from the link alone (it only raises
    protection, and the account may be locked): the event's flags become high, and it is an abuse
    report (``signatures.services.abuse_report``: sessions ended, password change forced,
    certificates suspended, a high flag and a case for officers). Records ``signin.reviewed``.
    Raises ``ApplicationError``."""
    if answer not in (SignInReview.Answer.ME, SignInReview.Answer.NOT_ME):
        raise ApplicationError(gettext("Choose an answer."), code="invalid_answer")
    # Checked outside the transaction below, so that a refusal's audit event is kept.
    review = signin_review_get(token=token, actor=actor)
    if answer == SignInReview.Answer.ME and (actor is None or not actor.is_authenticated):
        raise ApplicationError(
            gettext("Sign in to confirm it was you."), code="not_authenticated", status_code=403
        )
    with transaction.atomic():
        answered = _signin_review_close(review=review, answer=answer, actor=actor)
    if not answered:  # a concurrent answer won
        with transaction.atomic():
            error = _review_refused(reason="used", actor=actor, review=review)
        raise error
    # The answer was written with a conditional update, not through this instance: read it back
    # so that the caller shows the confirmation of the answer actually given.
    review.refresh_from_db(fields=["answer", "answered_at", "answered_by"])
    return review


def _signin_review_close(*, review: SignInReview, answer: str, actor: User | None) -> bool:
    now = _now()
    # The first answer to an event wins: this review and its siblings close together.
    won = SignInReview.objects.filter(pk=review.pk, answered_at__isnull=True).update(
        answered_at=now, answer=answer, answered_by=actor if actor and actor.is_authenticated else None
    )
    if not won:
        return False
    SignInReview.objects.filter(event_id=review.event_id, answered_at__isnull=True).update(
        answered_at=now, answer=SignInReview.Answer.SUPERSEDED
    )
    event = review.event
    flag_ids = [reason["flag"] for reason in event.risk_reasons if reason.get("flag")]
    flags = Flag.objects.select_for_update().filter(pk__in=flag_ids, status=Flag.Status.OPEN)
    if answer == SignInReview.Answer.ME:
        closed = list(
            flags.filter(severity__in=[Flag.Severity.LOW, Flag.Severity.MEDIUM]).values_list("pk", flat=True)
        )
        Flag.objects.filter(pk__in=closed).update(status=Flag.Status.ANSWERED, outcome="confirmed_by_user")
        for kind, value in (
            (KnownPlace.Kind.DEVICE, event.device_id),
            (KnownPlace.Kind.NETWORK, event.network),
        ):
            if value:
                KnownPlace.objects.get_or_create(user_id=event.user_id, kind=kind, value=value)
        User.objects.filter(pk=event.user_id).update(step_up_required_at=None)
    else:
        closed = list(flags.values_list("pk", flat=True))
        Flag.objects.filter(pk__in=closed).update(
            status=Flag.Status.ANSWERED, outcome="denied_by_user", severity=Flag.Severity.HIGH
        )
    outcome = "confirmed_by_user" if answer == SignInReview.Answer.ME else "denied_by_user"
    for flag in Flag.objects.filter(pk__in=closed):
        audit_event_record(
            action=Action.FLAG_ANSWERED,
            actor=actor if actor and actor.is_authenticated else None,
            organization=flag.organization,
            target=flag,
            data={"kind": flag.kind, "outcome": outcome, "severity": flag.severity},
        )
    audit_event_record(
        action=Action.SIGNIN_REVIEWED,
        actor=actor if actor and actor.is_authenticated else None,
        organization=event.organization,
        target=event,
        data={"answer": answer, "flags": [str(pk) for pk in closed], "recipient": str(review.recipient_id)},
    )
    if answer == SignInReview.Answer.NOT_ME:
        _signin_disown(event=event, reporter=review.recipient)
    return True


def _signin_disown(*, event: SignInEvent, reporter: User) -> None:
    """ "This was not me" is a misuse report: the abuse-report service ends the account's sessions,
    forces its password change, suspends the certificates it may sign with and opens a high
    ``abuse_report`` flag and a case for officers. An account outside any enterprise (an
    officer's) cannot be reported so: its password change is forced, its sessions end and a high
    ``misuse_reported`` flag opens."""
    user = event.user
    if (
        reporter.organization_id is not None
        and user is not None
        and user.organization_id == reporter.organization_id
    ):
        flag_ids = [reason["flag"] for reason in event.risk_reasons or [] if reason.get("flag")]
        abuse_report(
            reporter=reporter,
            reported_user=user,
            certificates=certificates_signable_by(user=user),
            related_flags=list(Flag.objects.filter(pk__in=flag_ids)),
            description=gettext("Sign-in %(signin)s was reported as not made by the account's user.")
            % {"signin": event.pk},
        )
        return
    User.objects.filter(pk=event.user_id).update(must_change_password=True)
    sessions_end_all(user=event.user)
    flag_raise(
        kind="misuse_reported",
        severity=Flag.Severity.HIGH,
        explanation="A risky sign-in was reported as not made by the account's user.",
        user=event.user,
        organization=event.organization,
        evidence={"signin": str(event.pk), "reporter": str(reporter.pk)},
    )
