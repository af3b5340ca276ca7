from __future__ import annotations

import ipaddress
import re
import uuid

from django.conf import settings

from core.context import Channel, RequestContext, bound_context, normalise_ip

_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
USER_AGENT_MAX = 512


def channel_for_path(path: str) -> str:
    if path.startswith("/api/"):
        return Channel.API
    if path.startswith("/officers/"):
        return Channel.OFFICERS
    return Channel.PORTAL


def _trusted_network(address: str, networks: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def client_ip(request) -> str | None:
    """The client's address, for sign-in history and the audit trail.

    ``X-Forwarded-For`` is read from the right, because each proxy appends the address it saw and
    only what our own proxies appended is true; anything to the left was written by the client.
    With ``TRUSTED_PROXY_COUNT = n`` the client is the n-th entry from the right; with
    ``TRUSTED_PROXIES`` (networks) it is the right-most entry not in them, and only when the
    direct peer is one of them. With neither, the header is ignored. (django-ipware's default
    reads from the left, which is the client-written end.)
    """
    remote = normalise_ip(request.META.get("REMOTE_ADDR"))
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if settings.TRUSTED_PROXY_COUNT and len(hops) >= settings.TRUSTED_PROXY_COUNT:
        return normalise_ip(hops[-settings.TRUSTED_PROXY_COUNT]) or remote
    if settings.TRUSTED_PROXIES and remote and _trusted_network(remote, settings.TRUSTED_PROXIES):
        for hop in reversed(hops):
            address = normalise_ip(hop)
            if address is None:
                break
            if not _trusted_network(address, settings.TRUSTED_PROXIES):
                return address
    return remote


class RequestContextMiddleware:
    """Gives each request an id (kept from a sane ``X-Request-ID`` so a proxy's id carries
    through) and binds the context audit events and log lines read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        context = RequestContext(
            request_id=request_id,
            channel=channel_for_path(request.path),
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX],
        )
        with bound_context(context):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
