from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BrokerLicence(models.Model):
    """A customs brokerage licence; only a broker with an active licence may act for traders."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")

    organization = models.OneToOneField(
        "accounts.Organization", verbose_name=_("broker"), on_delete=models.PROTECT, related_name="licence"
    )
    number = models.CharField(_("licence number"), max_length=64, unique=True)
    issued_by = models.CharField(_("issuing department"), max_length=255, blank=True)
    issued_on = models.DateField(_("issued on"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(_("reason"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("broker licence")
        verbose_name_plural = _("broker licences")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended", "revoked"]),
                name="broker_licence_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class AgentStaff(models.Model):
    """A broker's customs agent: every broker signature traces to one personal agent number."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="agent_profile",
    )
    licence = models.ForeignKey(
        BrokerLicence, verbose_name=_("licence"), on_delete=models.PROTECT, related_name="agents"
    )
    agent_number = models.CharField(_("agent number"), max_length=64, unique=True)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent staff member")
        verbose_name_plural = _("agent staff")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True) | models.Q(left_on__gte=models.F("joined_on")),
                name="agent_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return self.agent_number
