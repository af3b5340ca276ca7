"""The request context that audit events and log lines carry.

Set once per request by ``audit.middleware.RequestContextMiddleware`` (and per task by the
Celery signals in ``config.celery``) so services record who/where without passing requests around.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


class Channel:
    PORTAL = "portal"
    API = "api"
    OFFICERS = "officers"
    WORKER = "worker"
    CLI = "cli"
    SYSTEM = "system"


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    channel: str = Channel.SYSTEM
    ip: str | None = None
    user_agent: str = ""


@functools.lru_cache(maxsize=4096)  # a batch of events shares its context's address
def normalise_ip(value: str | None) -> str | None:
    """One spelling per address (``2001:db8::1``, never ``2001:DB8::0:1``), or ``None``."""
    try:
        return ipaddress.ip_address((value or "").strip()).compressed
    except ValueError:
        return None


_SYSTEM = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("request_context", default=_SYSTEM)


def current_context() -> RequestContext:
    return _current.get()


@contextlib.contextmanager
def bound_context(context: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def push_context(context: RequestContext):
    """For callers whose start and end are separate callbacks (Celery signals); pair with ``pop_context``."""
    return _current.set(context)


def pop_context(token) -> None:
    _current.reset(token)
