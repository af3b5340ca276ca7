"""What the officers' app does when a lower app tells it something happened."""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django.utils.translation import gettext

from audit.models import Case
from officers.services.cases import case_open
from officers.services.groups import officer_groups_sync
from signatures.signals import abuse_reported

logger = logging.getLogger(__name__)


@receiver(abuse_reported, dispatch_uid="officers.abuse_reported")
def abuse_report_case_open(sender, report, flags, **_kwargs) -> None:
    """A misuse report is a case for officers from the start, not only a flag in their queue: the
    report's flag with the related flags that are in no open case yet. When the report's own flag
    is already in an open case (a second report of the same thing), that case has it."""
    free = [flag for flag in flags if not flag.cases.filter(status=Case.Status.OPEN).exists()]
    if report.flag in free:
        title = gettext("Misuse reported by %(organization)s") % {"organization": report.organization.name}
        case_open(flags=free, actor=None, title=title)


def officer_groups_after_migrate(sender, using="default", **kwargs) -> None:
    """Bring the officer groups in line after every ``migrate`` (connected in ``officers.apps``)."""
    try:
        officer_groups_sync()
    except LookupError as exc:  # a partial migrate (one app back to an old state): fix on the next one
        logger.warning("officer groups not updated: %s", exc)
