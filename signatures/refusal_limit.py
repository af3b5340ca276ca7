"""A limit on refused filings: at most ``SIGNING_REFUSALS_PER_MINUTE`` per API key (per user in the
portal), counted over a sliding minute in the cache.

Every refused filing is evidence and is kept, so a caller sending refusals on purpose would fill
the database and the officers' view; past the limit its filings get 429 ``too_many_refusals``
with ``Retry-After``, without being checked or kept, until the minute has passed. Accepted
filings are not counted. With the cache down the limit is not applied (a warning is logged):
filing must not stop with Redis."""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

from brokers.models import OrganizationAPIKey

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def filer_of(request) -> str:
    """Whose refusals are counted: the API key's, or the signed-in user's."""
    key = getattr(request, "auth", None)
    return f"key:{key.prefix}" if isinstance(key, OrganizationAPIKey) else f"user:{request.user.pk}"


def _keys(ident: str) -> tuple[str, str, float]:
    window, elapsed = divmod(time.time(), WINDOW_SECONDS)
    return f"refusals:{ident}:{int(window)}", f"refusals:{ident}:{int(window) - 1}", elapsed


def refusals_wait(ident: str) -> int | None:
    """Seconds until ``ident`` may file again, or ``None`` while it is under the limit."""
    current_key, previous_key, elapsed = _keys(ident)
    try:
        counts = cache.get_many([current_key, previous_key])
    except Exception as error:  # redis-py's errors are not one class: any cache failure
        logger.warning("refusal limit not applied: the cache is unavailable (%s)", type(error).__name__)
        return None
    estimate = counts.get(previous_key, 0) * (1 - elapsed / WINDOW_SECONDS) + counts.get(current_key, 0)
    if estimate < settings.SIGNING_REFUSALS_PER_MINUTE:
        return None
    return max(1, math.ceil(WINDOW_SECONDS - elapsed))


def refusal_counted(ident: str) -> None:
    current_key, _previous_key, _elapsed = _keys(ident)
    try:
        cache.add(current_key, 0, 2 * WINDOW_SECONDS + 1)
        cache.incr(current_key)
    except Exception as error:
        logger.warning("refusal not counted: the cache is unavailable (%s)", type(error).__name__)
