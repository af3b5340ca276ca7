"""Who may act: the checks services make before they change anything (deny by default, DESIGN §5
rule 9). Brokers and signatures use the officers' ones too."""

from __future__ import annotations

from django.utils.translation import gettext

from accounts.models import Organization, User
from core.errors import ApplicationError


def require_officer(actor: User | None, *, system_allowed: bool = False) -> None:
    """Only a customs officer decides this; with ``system_allowed``, also the system itself
    (``actor=None``: a sweep or an automatic response)."""
    if actor is None and system_allowed:
        return
    if actor is None or not actor.is_officer:
        raise ApplicationError(
            gettext("Only a customs officer can do this."), code="not_allowed", status_code=403
        )


def require_reason(reason: str) -> str:
    """The reason an officer or a manager gives for a decision: required, kept to 2,000 characters."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            gettext("Give the reason."), code="reason_required", fields={"reason": ["required"]}
        )
    return reason[:2000]


def require_manager(actor: User, organization_id: int | None) -> None:
    """Deny by default (rule 9): only the enterprise's own owner or an administrator manages it."""
    if organization_id is None or actor.organization_id != organization_id or not actor.is_manager:
        raise ApplicationError(
            gettext("Only the enterprise's owner or an administrator can do this."),
            code="not_allowed",
            status_code=403,
        )


def require_trader_manager(actor: User, refusal: str) -> Organization:
    """The actor's own enterprise, if it is a trader they own or administer; else ``not_allowed``
    with ``refusal``, the sentence that names what they tried."""
    trader = actor.organization
    if trader is None or not actor.is_manager or trader.kind != Organization.Kind.TRADER:
        raise ApplicationError(refusal, code="not_allowed", status_code=403)
    return trader


def require_manageable(actor: User, member: User) -> None:
    """The owner is managed by no one in the portal; an administrator manages neither the owner
    nor other administrators; nobody changes their own role or deactivates themselves."""
    require_manager(actor, member.organization_id)
    if (
        member.pk == actor.pk
        or member.role == User.Role.OWNER
        or (actor.role == User.Role.ADMINISTRATOR and member.role == User.Role.ADMINISTRATOR)
    ):
        raise ApplicationError(
            gettext("You cannot change this account."), code="not_allowed", status_code=403
        )
