"""The automatic responses to a risky sign-in (``RISK_RESPONSES``, by its highest severity)."""

from __future__ import annotations

import datetime
from importlib import import_module

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, SignInEvent, User, UserSession
from accounts.services.notifications import notifications_send
from audit.models import Action
from audit.services.events import audit_events_record
from risk.selectors import certificates_signable_by
from signatures.services.lifecycle import certificate_suspend


def _now() -> datetime.datetime:
    return timezone.now()


# Each response acts on a list of sign-ins (a batch) and returns the details of each. A user may
# appear twice in a batch; what a response did is told at the first sign-in, as one at a time would.


def _respond_step_up(events: list[SignInEvent]) -> list[dict]:
    User.objects.filter(pk__in={event.user_id for event in events}).update(step_up_required_at=_now())
    return [{} for _event in events]


def _sessions_end(user_ids: set[int]) -> dict[int, int]:
    """Ends every portal session of these users; returns how many each had."""
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = list(UserSession.objects.filter(user_id__in=user_ids))
    ended: dict[int, int] = {}
    for session in sessions:
        session_store(session_key=session.session_key).delete()
        ended[session.user_id] = ended.get(session.user_id, 0) + 1
    if sessions:
        UserSession.objects.filter(pk__in=[session.pk for session in sessions]).delete()
    return ended


def _respond_end_sessions(events: list[SignInEvent]) -> list[dict]:
    ended = _sessions_end({event.user_id for event in events})
    return [{"sessions": ended.pop(event.user_id, 0)} for event in events]


def _respond_lock_account(events: list[SignInEvent]) -> list[dict]:
    User.objects.filter(pk__in={event.user_id for event in events}, suspended_at__isnull=True).update(
        suspended_at=_now(), suspension_reason="risk"
    )
    _sessions_end({event.user_id for event in events})
    return [{} for _event in events]


def _respond_suspend_certificates(events: list[SignInEvent]) -> list[dict]:
    """The system suspends every active certificate the account may sign with (the risk engine
    sits above signatures, so it asks ``certificate_suspend`` directly)."""
    details = []
    for event in events:
        certificates = certificates_signable_by(user=event.user)
        for certificate in certificates:
            certificate_suspend(
                certificate=certificate,
                actor=None,
                reason=gettext("Suspended automatically after a risky sign-in (%(signin)s).")
                % {"signin": event.pk},
            )
        details.append({"certificates": len(certificates)})
    return details


RESPONSES = {
    "step_up": _respond_step_up,
    "end_sessions": _respond_end_sessions,
    "lock_account": _respond_lock_account,
    "suspend_certificates": _respond_suspend_certificates,
}


def risk_respond(*, event: SignInEvent, severity: str, tell: bool = True) -> list[str]:
    """Take the responses ``RISK_RESPONSES[severity]`` names, each recorded as ``risk.response``,
    and (``tell``) tell the user what was done in one notification. Returns the responses taken."""
    return risk_respond_many(risky=[(event, severity, tell)])[0]


def risk_respond_many(*, risky: list[tuple[SignInEvent, str, bool]]) -> list[list[str]]:
    """``risk_respond`` for many ``(sign-in, severity, tell)`` at once, each response taken for
    all the sign-ins that call for it together and the ``risk.response`` events inserted in one
    statement. Returns the responses taken for each."""
    taken: list[list[str]] = [[] for _item in risky]
    details: dict[tuple[int, str], dict] = {}
    for name, respond in RESPONSES.items():
        indexes = [
            n
            for n, (_e, severity, _t) in enumerate(risky)
            if name in settings.RISK_RESPONSES.get(severity, [])
        ]
        if not indexes:
            continue
        for n, detail in zip(indexes, respond([risky[n][0] for n in indexes]), strict=True):
            details[n, name] = detail
    events = []
    for n, (event, severity, _tell) in enumerate(risky):
        for name in settings.RISK_RESPONSES.get(severity, []):
            events.append(
                {
                    "action": Action.RISK_RESPONSE,
                    "organization": event.organization,
                    "target": event.user,
                    "data": {
                        "response": name,
                        "severity": severity,
                        "signin": str(event.pk),
                        **details[n, name],
                    },
                }
            )
            taken[n].append(name)
    audit_events_record(events=events)
    notifications_send(
        items=[
            (event.user, Notification.Kind.RISK_RESPONSE, {"responses": taken[n], "signin": event.pk})
            for n, (event, _severity, tell) in enumerate(risky)
            if taken[n] and tell
        ]
    )
    return taken
