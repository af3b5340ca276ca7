"""Give the application's database role what it needs and nothing more (docs/operations.md,
"Database roles").

Run by the tables' owner after every ``migrate``: the role is created if missing (its password
read from a file, never from the command line), may read and write the tables, may not own,
alter or truncate any, and may neither change nor delete the audit trail's rows but the seal it
writes. It must not be a superuser: a superuser could turn the audit triggers off."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

# Tables whose rows the application only inserts; the audit events and the seal state take the
# sealer's UPDATE as well (the triggers allow nothing else).
APPEND_ONLY = ("audit_auditcheckpoint", "audit_audittreenode", "audit_auditwitnesssignature")
NEVER_DELETED = ("audit_auditevent", "audit_auditsealstate", *APPEND_ONLY)


class Command(BaseCommand):
    help = "Create or update the application's database role with the least privileges it needs."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="the role web and workers connect as")
        parser.add_argument("--password-file", help="a file holding the role's password (set when given)")

    def handle(self, *args, role: str, password_file: str | None, **options):
        if connection.vendor != "postgresql":
            raise CommandError("database roles exist on PostgreSQL only", returncode=2)
        password = _read_password(password_file) if password_file else None
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            owner, database = cursor.fetchone()
            if role == owner:
                raise CommandError(
                    f"{role} is the role running this command: the application needs its own", returncode=2
                )
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found and found[0]:
                raise CommandError(
                    f"{role} is a superuser: it could switch the audit triggers off", returncode=2
                )
            if found is None:
                cursor.execute(_compose("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", role))
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", [role]
            )
            owned = [name for (name,) in cursor.fetchall()]
            if owned:
                raise CommandError(
                    f"{role} owns {', '.join(owned)}: the tables' owner can drop their triggers", returncode=2
                )
            for statement in (
                "GRANT CONNECT ON DATABASE {database} TO {role}",
                "GRANT USAGE ON SCHEMA public TO {role}",
                "REVOKE CREATE ON SCHEMA public FROM {role}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
                "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}",
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
            ):
                cursor.execute(
                    sql.SQL(statement).format(database=sql.Identifier(database), role=sql.Identifier(role))
                )
            for table in NEVER_DELETED:
                cursor.execute(_compose("REVOKE DELETE ON {} FROM {}", table, role))
            for table in APPEND_ONLY:
                cursor.execute(_compose("REVOKE UPDATE ON {} FROM {}", table, role))
        if password is not None:
            # Through the driver's own cursor: Django's would log the statement, password included,
            # when DEBUG logs SQL.
            with connection.connection.cursor() as raw:
                raw.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
                )
        self.stdout.write(
            f"{role}: may read and write {database}'s tables, owns none, cannot change the audit trail"
        )


def _compose(template: str, *names: str) -> sql.Composed:
    return sql.SQL(template).format(*(sql.Identifier(name) for name in names))


def _read_password(path: str) -> str:
    try:
        password = Path(path).read_text().strip()
    except OSError as error:
        raise CommandError(f"cannot read the password file: {error.strerror}", returncode=2) from None
    if len(password) < 16:
        raise CommandError("the password file must hold at least 16 characters", returncode=2)
    return password
