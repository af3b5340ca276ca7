"""What the risk benchmarks do first: refuse any database but a PostgreSQL one named for
benchmarks, migrate it, and keep after-commit messages and mail out of what is measured."""

from __future__ import annotations


def quiet_benchmark_database() -> list[str] | None:
    """The list the unpublished messages' task names go to, or None (after saying why) when the
    database is not a PostgreSQL benchmark database. Call after ``django.setup()``."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if "bench" not in name or connection.vendor != "postgresql":
        print(f"refusing: {name!r} is not a PostgreSQL benchmark database (its name must contain 'bench')")
        return None
    call_command("migrate", verbosity=0)
    # Messages after the commit (audit sealing, e-mails) are not what is measured.
    import audit.services.events
    import core.tasks

    published: list[str] = []

    def hold(task, *_args, **_kwargs):
        published.append(task.name)

    core.tasks.publish_safely = audit.services.events.publish_safely = hold
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # DEBUG=true (needed without production secrets) would keep every query in memory.
    settings.DEBUG = False
    return published
