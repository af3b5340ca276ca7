"""The audit trail's triggers cannot be switched off from a session.

django-pgtrigger lets a session skip any trigger by naming it in the ``pgtrigger.ignore`` setting,
which every role may set: the application's own role could then delete audit events. After every
``migrate`` (pgtrigger re-creates its function with each trigger it installs) the function that
reads the setting is redefined to refuse it for the audit trail's triggers, whose names all start
with ``pgtrigger_audit_``; other apps' triggers keep the feature."""

from __future__ import annotations

from django.db import connections

SHOULD_IGNORE = r"""
CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(trigger_name NAME)
RETURNS BOOLEAN AS $$
    DECLARE
        _pgtrigger_ignore TEXT[];
        _result BOOLEAN;
    BEGIN
        IF trigger_name LIKE 'pgtrigger\_audit\_%' THEN
            RETURN FALSE;
        END IF;
        BEGIN
            SELECT INTO _pgtrigger_ignore CURRENT_SETTING('pgtrigger.ignore');
            EXCEPTION WHEN OTHERS THEN
        END;
        IF _pgtrigger_ignore IS NOT NULL THEN
            SELECT trigger_name = ANY(_pgtrigger_ignore) INTO _result;
            RETURN _result;
        ELSE
            RETURN FALSE;
        END IF;
    END;
$$ LANGUAGE plpgsql;
"""


def audit_triggers_never_ignored(using: str = "default", **_kwargs) -> None:
    """A ``post_migrate`` receiver: redefine pgtrigger's ignore check (above) on PostgreSQL."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(SHOULD_IGNORE)
