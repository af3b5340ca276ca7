"""Links that leave the site in an email or on a terminal: they carry the site's own address."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """``path`` (as ``reverse`` gives it) under ``SITE_URL``, the address people reach the site at."""
    return settings.SITE_URL.rstrip("/") + path
