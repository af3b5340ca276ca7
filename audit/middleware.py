from __future__ import annotations

import re
import uuid

from django.conf import settings
from ipware import get_client_ip

from audit.context import Channel, RequestContext, bound_context

_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
USER_AGENT_MAX = 512


def channel_for_path(path: str) -> str:
    if path.startswith("/api/"):
        return Channel.API
    if path.startswith("/officers/"):
        return Channel.OFFICERS
    return Channel.PORTAL


def client_ip(request) -> str | None:
    ip, _routable = get_client_ip(
        request,
        proxy_count=settings.TRUSTED_PROXY_COUNT or None,
        proxy_trusted_ips=settings.TRUSTED_PROXIES or None,
    )
    return ip


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
