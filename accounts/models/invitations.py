"""Staff invitations: a named person invited into an enterprise in a role, by one-time link."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User
from accounts.validators import validate_citizen_id
from core.text import full_name


class StaffInvitation(models.Model):
    """An owner or administrator invites a named person (with their ID number) to join the
    enterprise in a role; the person accepts through a one-time link and chooses a username and
    password. One person, one account: the invitation is not transferable."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        CANCELLED = "cancelled", _("Cancelled")

    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email"))
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    national_id_number = models.CharField(
        _("ID number (CCCD)"), max_length=12, validators=[validate_citizen_id]
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=User.Role.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # Empty when an operator onboarded the enterprise from the command line (create_organization).
    invited_by = models.ForeignKey(
        User, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="invitation"
    )
    created_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff invitation")
        verbose_name_plural = _("staff invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Staff are invited by their owner or an administrator; an owner only by the operator who
            # created the enterprise without one (create_organization).
            models.CheckConstraint(
                condition=models.Q(role__in=["administrator", "declarant", "signer", "viewer"])
                | models.Q(role="owner", invited_by__isnull=True),
                name="staff_invitation_role_valid",
            ),
            models.UniqueConstraint(
                fields=["organization", "national_id_number"],
                condition=models.Q(status="pending"),
                name="staff_invitation_one_pending_per_person",
                violation_error_code="duplicate_invitation",
                violation_error_message=_("This person already has a pending invitation."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization_id} ({self.get_role_display()})"

    @property
    def full_name(self) -> str:
        return full_name(family=self.last_name, given=self.first_name)


# The second factor's models live beside these; imported here so the app registry loads them.
