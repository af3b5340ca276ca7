"""Entry points of spawned verification workers.

Kept free of Django imports at module level: a spawned process unpickles these functions before
Django is set up, and importing models then would fail.
"""

from __future__ import annotations

import os


def start(database: dict) -> None:
    """Set up Django on the very database the parent reads (in tests, the test database, whose
    name exists only in the parent's settings)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    settings.DATABASES["default"] = database
    connections["default"].settings_dict = database
    connections["default"].close()


def verify_chunk(task):
    # Imported here, once start() has set Django up: the module reads models.
    from audit.verification_chunks import verify_chunk as verify

    return verify(task)
