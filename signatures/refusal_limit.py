"""A limit on refused filings: at most ``SIGNING_REFUSALS_PER_MINUTE`` per API key (per user in the
portal), over a sliding minute (``core.limits``).

Every refused filing is evidence and is kept, so a caller sending refusals on purpose would fill
the database and the officers' view; past the limit its filings get 429 ``too_many_refusals``
with ``Retry-After``, without being checked or kept, until the minute has passed. Accepted
filings are not counted."""

from __future__ import annotations

from django.conf import settings

from brokers.models import OrganizationAPIKey
from core.limits import SlidingLimit

REFUSALS = SlidingLimit("refusals", lambda: settings.SIGNING_REFUSALS_PER_MINUTE)


def filer_of(request) -> str:
    """Whose refusals are counted: the API key's, or the signed-in user's."""
    key = getattr(request, "auth", None)
    return f"key:{key.prefix}" if isinstance(key, OrganizationAPIKey) else f"user:{request.user.pk}"
