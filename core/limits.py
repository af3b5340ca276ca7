"""A count of bad events per caller over a sliding minute, in the cache: refused filings per API
key, failed API keys per address.

The calls of this minute plus those of the previous one, weighted by how much of it the last 60
seconds still cover. Reading is one round trip (``get_many``), counting two (``add``, ``incr``).
With the cache down nothing is limited and a warning is logged: Redis is never a fact's only home,
so its outage must not stop the service."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


class SlidingLimit:
    def __init__(self, name: str, per_minute: Callable[[], int]):
        self.name = name
        self.per_minute = per_minute  # read at each call: settings may change (tests, reloads)

    def _keys(self, ident: str) -> tuple[str, str, float]:
        window, elapsed = divmod(time.time(), WINDOW_SECONDS)
        prefix = f"{self.name}:{ident}"
        return f"{prefix}:{int(window)}", f"{prefix}:{int(window) - 1}", elapsed

    def wait(self, ident: str) -> int | None:
        """Seconds until ``ident`` is under the limit again, or ``None`` while it is."""
        current_key, previous_key, elapsed = self._keys(ident)
        try:
            counts = cache.get_many([current_key, previous_key])
        except Exception as error:  # redis-py's errors are not one class: any cache failure
            logger.warning("%s not limited: the cache is unavailable (%s)", self.name, type(error).__name__)
            return None
        estimate = counts.get(previous_key, 0) * (1 - elapsed / WINDOW_SECONDS) + counts.get(current_key, 0)
        if estimate < self.per_minute():
            return None
        return max(1, math.ceil(WINDOW_SECONDS - elapsed))

    def reset(self, ident: str) -> None:
        """Forget ``ident``'s count (an operator lifting a limit; a test starting clean)."""
        current_key, previous_key, _elapsed = self._keys(ident)
        cache.delete_many([current_key, previous_key])

    def count(self, ident: str) -> None:
        current_key, _previous_key, _elapsed = self._keys(ident)
        try:
            cache.add(current_key, 0, 2 * WINDOW_SECONDS + 1)
            cache.incr(current_key)
        except Exception as error:
            logger.warning("%s not counted: the cache is unavailable (%s)", self.name, type(error).__name__)
