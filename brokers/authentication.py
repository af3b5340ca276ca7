"""``Authorization: Api-Key <key>`` (DESIGN §6): the key's organisation and the user who holds it."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions, permissions

from brokers.models import OrganizationAPIKey
from core.context import current_context, normalise_ip
from core.limits import SlidingLimit

# Keys that are no key (unknown, or not matching) per client address: past the limit the address's
# key calls are refused unchecked (429) for the rest of the minute, so keys cannot be guessed at speed.
FAILED_KEYS = SlidingLimit("failed-keys", lambda: settings.API_KEY_FAILURES_PER_MINUTE)


def _key_by_prefix(prefix: str) -> OrganizationAPIKey | None:
    """The key with this prefix (revoked ones too: a revoked key is no guess), its holder, the
    holder's organisation and agent record and licence in one query: it runs on every API call,
    and the library's own lookup loads each of them separately.
    The prefix is unique (the library's index serves it)."""
    found = (
        OrganizationAPIKey.objects.select_related("user__organization", "user__agent_profile__licence")
        .filter(prefix=prefix)
        .order_by()[:1]  # found by the unique prefix's index, not walked in the model's order
    )
    return found[0] if found else None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        # Imported here: DRF loads this class while the services' own imports are still running.
        from accounts.services.signins import network_of
        from brokers.services.api_keys import api_key_used

        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            if header and header.split(" ", 1)[0].lower() in ("bearer", "token", "basic"):
                # Another API's habit: say which scheme this one takes instead of a bare 401.
                raise exceptions.AuthenticationFailed(
                    _("Use the Api-Key scheme: Authorization: Api-Key <your key>.")
                )
            return None
        secret = header[len(self.keyword) + 1 :].strip()
        ip = normalise_ip(current_context().ip)
        address = ip or request.META.get("REMOTE_ADDR") or "unknown"
        wait = FAILED_KEYS.wait(address)
        if wait is not None:
            raise exceptions.Throttled(
                wait, detail=_("Too many invalid API keys from this address."), code="too_many_failed_keys"
            )
        key = _key_by_prefix(secret.partition(".")[0])
        # One message for unknown, revoked, expired and suspended keys: the caller learns only "no".
        # Only a key that is no key counts against the address: that is guessing. A real key gone
        # dead is a tool not yet updated, and must not lock out the office's other keys.
        if key is None or not key.is_valid(secret):
            FAILED_KEYS.count(address)
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        if key.revoked or key.has_expired or key.suspended_at is not None or not _holder_may_act(key):
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        api_key_used(key=key, ip=ip, network=network_of(ip))
        request.api_key = key
        return key.user, key

    def authenticate_header(self, request):
        return self.keyword


def _holder_may_act(key: OrganizationAPIKey) -> bool:
    from brokers.services.agents import agent_is_current

    user = key.user
    if not user.is_active or user.suspended_at is not None or user.organization_id != key.organization_id:
        return False
    agent = getattr(user, "agent_profile", None)
    return agent is None or agent_is_current(agent)


class HasScope(permissions.BasePermission):
    """A view names ``required_scope`` (per method, or one for all); a session (the portal's own
    pages) has every scope its user's role allows, an API key only those it was given."""

    def has_permission(self, request, view) -> bool:
        required = getattr(view, "required_scopes", {}).get(
            request.method, getattr(view, "required_scope", None)
        )
        if required is None:
            return True
        key = request.auth if isinstance(request.auth, OrganizationAPIKey) else None
        if key is not None and required not in key.scopes:
            raise exceptions.PermissionDenied(
                _("This API key does not have the '%(scope)s' scope.") % {"scope": required},
                code="scope_missing",
            )
        return True
