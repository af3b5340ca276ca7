"""Django's PostgreSQL backend with a health check that costs no round trip when nothing is wrong.

``CONN_HEALTH_CHECKS`` makes Django run ``SELECT 1`` on a persistent connection before each
request's first query: a round trip to the server on every request (a sixth of a signature's wall
time under bench/sign.py's load on a 2-core machine, py-spy). A connection the server has ended (restart,
``pg_terminate_backend``, idle timeout) has something to read while idle: the server's error
message, or the end of the stream. So an idle connection with nothing to read is taken as
healthy without asking; one with something to read gets Django's own check.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            if not poller.poll(0):
                return True
        except (OSError, ValueError):
            return False
        return super().is_usable()
