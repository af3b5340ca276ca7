from __future__ import annotations

import contextlib

import pytest
from django.db import connection

from audit import keys


@pytest.fixture(autouse=True)
def _fresh_keys():
    keys.reset_caches()
    yield
    keys.reset_caches()


@contextlib.contextmanager
def bypassing_triggers():
    """What an attacker with database superuser rights can do: write around the triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def small_tree_blocks(monkeypatch):
    """Store a node every 2 levels (blocks of 4) so a few hundred events exercise many levels."""
    from audit import selectors

    monkeypatch.setattr(selectors, "NODE_STRIDE", 2)
    monkeypatch.setattr(selectors, "BLOCK_SIZE", 4)
