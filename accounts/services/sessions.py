"""Portal sessions: remembered when opened, so their user can list and end them."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from accounts.models import User, UserSession
from audit.models import Action
from audit.services.events import audit_event_record
from core.context import current_context, normalise_ip
from core.errors import ApplicationError


def session_open(*, user: User, session_key: str, device_id: str = "") -> UserSession:
    """Remember a new portal session so its user can list and end it."""
    context = current_context()
    session, _created = UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "ip": normalise_ip(context.ip),
            "user_agent": context.user_agent[:512],
            "device_id": device_id[:64],
        },
    )
    return session


def session_forget(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def sessions_end(*, user: User, sessions: list[UserSession], actor: User) -> int:
    """End the given sessions of ``user`` (which must be theirs; the caller selected them through
    ``selectors.session_list_for_user``). Records ``session.ended`` for each."""
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in sessions:
        if session.user_id != user.pk:
            raise ApplicationError(gettext("No such session."), code="not_found", status_code=404)
        session_store(session_key=session.session_key).delete()
        audit_event_record(
            action=Action.SESSION_ENDED,
            actor=actor,
            organization=user.organization,
            target=session,
            data={"device": session.device_id},
        )
        session.delete()
        ended += 1
    return ended


def sessions_end_all(*, user: User) -> None:
    """End every portal session of ``user`` now (deactivation, a misuse report)."""
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    for session in UserSession.objects.filter(user=user):
        session_store(session_key=session.session_key).delete()
        session.delete()
