"""Reading PostgreSQL timestamps with psycopg's compiled parser.

Django (5.2) reads every ``timestamptz`` through a loader that subclasses psycopg's pure-Python
``TimestamptzLoader`` (Django ticket #36960: the compiled one cannot be subclassed), so each value
is parsed by regular expressions in Python: about a tenth of the risk engine's time
(bench/risk_eval.py, py-spy). This loader hands the parsing to the compiled loader that ``psycopg[binary]``
registers globally and then, as Django's does, sets the connection's time zone (UTC under
``USE_TZ``, the session's ``TimeZone`` Django sets on connect), so the values are identical.
"""

from __future__ import annotations

import psycopg
from psycopg.adapt import Loader
from psycopg.postgres import types
from psycopg.pq import Format

TIMESTAMPTZ_OID = types["timestamptz"].oid
_COMPILED = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


class _CompiledTzLoader(Loader):
    timezone = None  # Django's create_cursor compares this with the connection's time zone

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._parse = _COMPILED(oid, context).load

    def load(self, data):
        return self._parse(data).replace(tzinfo=self.timezone)


def compiled_timestamp_loader(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: registers the compiled loader on a new PostgreSQL
    connection, unless psycopg has no compiled implementation here (then Django's stays)."""
    if connection.vendor != "postgresql" or _COMPILED.__module__.startswith("psycopg.types"):
        return
    adapters = connection.connection.adapters
    current = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    loader = type("CompiledTzLoader", (_CompiledTzLoader,), {"timezone": current.timezone})
    adapters.register_loader(TIMESTAMPTZ_OID, loader)
