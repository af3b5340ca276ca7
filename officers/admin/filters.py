"""The work queue's filters: by age, by whose it is, by kind and by severity, each shown in words."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import SignInEvent
from audit.flag_kinds import FLAG_KINDS
from audit.models import Flag
from officers.labels import person_name
from officers.selectors import investigators


class AgeFilter(admin.SimpleListFilter):
    """Recent items (a flag seen again counts as recent) or those waiting over a week or a month."""

    title = _("age")
    parameter_name = "age"
    recent_field = "last_seen_at"
    started_field = "first_seen_at"

    def lookups(self, request, model_admin):
        return [
            ("day", _("in the last 24 hours")),
            ("week", _("in the last 7 days")),
            ("stale", _("waiting over 7 days")),
            ("old", _("waiting over 30 days")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        within = {"day": 1, "week": 7}
        over = {"stale": 7, "old": 30}
        value = self.value()
        if value in within:
            return queryset.filter(
                **{f"{self.recent_field}__gte": now - datetime.timedelta(days=within[value])}
            )
        if value in over:
            started_before = now - datetime.timedelta(days=over[value])
            return queryset.filter(**{f"{self.started_field}__lt": started_before})
        return queryset


class CaseAgeFilter(AgeFilter):
    recent_field = started_field = "opened_at"


class AssigneeFilter(admin.SimpleListFilter):
    """Mine, nobody's, or one colleague's: the investigators by name, family name first."""

    title = _("assigned to")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        return [
            ("me", _("me")),
            ("nobody", _("nobody")),
            *((str(user.pk), person_name(user)) for user in investigators() if user.pk != request.user.pk),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "nobody":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


class FlagKindFilter(admin.SimpleListFilter):
    """The known kinds by their names (a flag's kind is a plain string, not a choice); listed from
    ``FLAG_KINDS`` rather than by a scan of every flag for the distinct kinds."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return sorted(((kind, str(label)) for kind, label in FLAG_KINDS.items()), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class CaseSeverityFilter(admin.SimpleListFilter):
    """A case is as severe as its most severe flag."""

    title = _("severity")
    parameter_name = "severity"

    def lookups(self, request, model_admin):
        return [(str(value), label) for value, label in reversed(Flag.Severity.choices)]

    def queryset(self, request, queryset):
        rank = Flag.SEVERITY_RANK.get(self.value())
        return queryset if rank is None else queryset.filter(severity_rank=rank)


class SigningChannelFilter(admin.SimpleListFilter):
    """Where a signature came from (portal or API), by name: the record keeps the plain code."""

    title = _("channel")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return [(value, label) for value, label in SignInEvent.Channel.choices if value != "officers"]

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset
