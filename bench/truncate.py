"""Emptying a benchmark database's tables, the audit trail's included.

The audit tables refuse TRUNCATE (audit.models.no_truncate). A benchmark database is the one place
they are emptied: its superuser's session turns every trigger off for the statement
(``session_replication_role = replica``), which the application's role cannot do."""

from __future__ import annotations


def truncate(cursor, tables: list[str], *, options: str = "") -> None:
    cursor.execute("SET session_replication_role = replica")
    try:
        cursor.execute(f"TRUNCATE {', '.join(tables)} {options}")
    finally:
        cursor.execute("SET session_replication_role = DEFAULT")
