"""What the signatures app tells the apps above it. Fire-and-forget: signatures never reads what a
receiver returns, and works the same with no receiver at all."""

from __future__ import annotations

from django.dispatch import Signal

# A member of an enterprise reported misuse (``signatures.services.abuse_report``), sent inside that
# service's transaction once the report's flag is raised: ``report`` (the ``AbuseReport``, its
# ``flag`` set) and ``flags`` (that flag first, then the related ones the reporter brought along,
# such as those of a sign-in disowned as "not me"). Officers open a case with them at once.
abuse_reported = Signal()
