"""Organisation API keys: made for one member with chosen scopes, revoked, and their use noted for the
risk engine (DESIGN §6, §9)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from accounts.services.signins import signin_record
from audit.models import Action
from audit.services.events import audit_event_record
from brokers.models import OrganizationAPIKey
from core.errors import ApplicationError

API_KEY_MAX_DAYS = 366


@transaction.atomic
def api_key_create(
    *, actor: User | None, holder: User, name: str, scopes: list[str], expires_in_days: int = 90
) -> tuple[OrganizationAPIKey, str]:
    """A key for ``holder`` (a member of the actor's organisation), made by its owner or an
    administrator, by the holder for themselves, or by the operator (``actor=None``, the command
    line). The key itself is returned once and only its hash is kept. Records ``api_key.created``
    (with the prefix, never the key)."""
    organization = holder.organization if actor is None else actor.organization
    if organization is None or holder.organization_id != organization.pk:
        raise ApplicationError(
            gettext("No such person in your organisation."), code="not_found", status_code=404
        )
    if actor is not None and holder.pk != actor.pk and not actor.is_manager:
        raise ApplicationError(
            gettext("Only the owner or an administrator makes keys for others."),
            code="not_allowed",
            status_code=403,
        )
    if not holder.is_active or holder.suspended_at is not None:
        raise ApplicationError(gettext("This account is not active."), code="not_allowed", status_code=403)
    chosen = sorted(set(scopes or []))
    if not chosen or set(chosen) - set(OrganizationAPIKey.Scope.values):
        raise ApplicationError(
            gettext("Choose the key's scopes among read, declare and manage."),
            code="invalid_scope",
            fields={"scopes": ["invalid"]},
        )
    if not 1 <= expires_in_days <= API_KEY_MAX_DAYS:
        raise ApplicationError(
            gettext("A key lives from 1 to 366 days."),
            code="invalid_expiry",
            fields={"expires_in_days": ["range"]},
        )
    if not name.strip():
        raise ApplicationError(gettext("Name the key."), code="invalid_input", fields={"name": ["required"]})
    key, secret = OrganizationAPIKey.objects.create_key(
        name=name.strip()[:50],
        organization=organization,
        user=holder,
        scopes=chosen,
        created_by=actor,
        expiry_date=timezone.now() + datetime.timedelta(days=expires_in_days),
    )
    audit_event_record(
        action=Action.API_KEY_CREATED,
        actor=actor,
        organization=organization,
        target=key,
        data={"prefix": key.prefix, "holder": str(holder.pk), "scopes": chosen, "days": expires_in_days},
    )
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: OrganizationAPIKey, actor: User) -> OrganizationAPIKey:
    if key.organization_id != actor.organization_id:
        raise ApplicationError(gettext("No such key."), code="not_found", status_code=404)
    if key.user_id != actor.pk and not actor.is_manager:
        raise ApplicationError(gettext("You cannot revoke this key."), code="not_allowed", status_code=403)
    key = OrganizationAPIKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked:
        return key
    key.revoked = True
    key.save(update_fields=["revoked"])
    audit_event_record(
        action=Action.API_KEY_REVOKED, actor=actor, organization=key.organization, target=key,
        data={"prefix": key.prefix},
    )  # fmt: skip
    return key


def api_key_used(*, key: OrganizationAPIKey, ip: str | None, network: str) -> None:
    """Remember where a key was last used; its first use from a network on a given day is an
    ``api`` sign-in event, for the risk engine (DESIGN §9)."""
    now = timezone.now()
    same_place = key.last_used_network == network and key.last_used_at is not None
    first_today_here = not (same_place and timezone.localdate(key.last_used_at) == timezone.localdate(now))
    # "Last used" to the minute: a busy key does not write its row on every call.
    if first_today_here or not same_place or now - key.last_used_at >= datetime.timedelta(minutes=1):
        OrganizationAPIKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_network=network)
    if first_today_here:
        signin_record(
            user=key.user, username=key.user.username, succeeded=True, device_id=f"api-key:{key.prefix}"
        )
