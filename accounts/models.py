from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_citizen_id, validate_tax_code


class Organization(models.Model):
    """An enterprise identified by its tax code: a trader (importer/exporter) or a customs broker."""

    class Kind(models.TextChoices):
        TRADER = "trader", _("Trader")
        BROKER = "broker", _("Customs broker")

    class Status(models.TextChoices):
        PENDING_VERIFICATION = "pending_verification", _("Pending verification")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    class ComplianceLevel(models.TextChoices):
        # Vietnam's five-level scale of declarant compliance (DESIGN §1).
        UNCLASSIFIED = "unclassified", _("Not yet classified")
        PRIORITISED = "prioritised", _("Prioritised")
        HIGH = "high", _("High compliance")
        MODERATE = "moderate", _("Moderate compliance")
        POOR = "poor", _("Poor compliance")
        NON_COMPLIANT = "non_compliant", _("Non-compliant")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    tax_code = models.CharField(_("tax code"), max_length=14, unique=True, validators=[validate_tax_code])
    name = models.CharField(_("name"), max_length=255)
    address = models.CharField(_("address"), max_length=500, blank=True)
    province = models.CharField(_("province"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    legal_representative_name = models.CharField(_("legal representative"), max_length=150, blank=True)
    legal_representative_id_number = models.CharField(
        _("legal representative's ID number"), max_length=12, blank=True, validators=[validate_citizen_id]
    )
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.PENDING_VERIFICATION
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    compliance_level = models.CharField(
        _("compliance level"),
        max_length=16,
        choices=ComplianceLevel.choices,
        default=ComplianceLevel.UNCLASSIFIED,
    )
    non_cooperation = models.BooleanField(_("marked non-cooperative"), default=False)
    non_cooperation_reason = models.TextField(_("non-cooperation reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["trader", "broker"]), name="organization_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending_verification", "active", "suspended"]),
                name="organization_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_code})"

    @property
    def is_broker(self) -> bool:
        return self.kind == self.Kind.BROKER


class User(AbstractUser):
    """One person, one account: a member of one organisation, or a customs officer (no organisation)."""

    class Role(models.TextChoices):
        NONE = "", _("No role")
        OWNER = "owner", _("Owner")
        ADMINISTRATOR = "administrator", _("Administrator")
        DECLARANT = "declarant", _("Declarant")
        SIGNER = "signer", _("Signer")
        VIEWER = "viewer", _("Viewer")
        OFFICER = "officer", _("Customs officer")

    ORGANIZATION_ROLES = (Role.OWNER, Role.ADMINISTRATOR, Role.DECLARANT, Role.SIGNER, Role.VIEWER)

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.NONE, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    national_id_number = models.CharField(
        _("ID number (CCCD)"), max_length=12, blank=True, validators=[validate_citizen_id]
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    must_change_password = models.BooleanField(_("must change password"), default=False)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspension_reason = models.CharField(_("suspension reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_unique_ci",
                violation_error_code="duplicate_email",
                violation_error_message=_("This email address is already used by another account."),
            ),
            models.UniqueConstraint(
                fields=["organization", "national_id_number"],
                condition=~models.Q(national_id_number=""),
                name="user_one_account_per_person_per_organization",
            ),
            # Members of an organisation hold an organisation role; officers and system
            # accounts belong to none.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        organization__isnull=False,
                        role__in=["owner", "administrator", "declarant", "signer", "viewer"],
                    )
                    | models.Q(organization__isnull=True, role__in=["officer", ""])
                ),
                name="user_role_matches_organization",
            ),
        ]

    @property
    def is_officer(self) -> bool:
        return self.role == self.Role.OFFICER

    @property
    def may_sign(self) -> bool:
        # Separation of duties (rule 9): owners and administrators manage, signers sign.
        return self.role == self.Role.SIGNER and self.organization_id is not None


class PasswordHistory(models.Model):
    """A user's earlier password hashes, so the last five (and their reversals) are not reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(_("password hash"), max_length=128)
    created_at = models.DateTimeField(_("replaced at"), auto_now_add=True)

    class Meta:
        verbose_name = _("previous password")
        verbose_name_plural = _("previous passwords")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"


class SignInEvent(models.Model):
    """Every sign-in attempt on every channel, success or failure (DESIGN §4), for the user's and
    the enterprise's history and for the risk detectors."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal")
        API = "api", _("API")
        OFFICERS = "officers", _("Officer console")

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, null=True, blank=True, related_name="sign_ins"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # For an attempt on a name that matches no account only a digest is kept: people type their
    # password into the username field, and the name itself would tell which accounts exist.
    username_digest = models.CharField(_("username digest"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    network = models.CharField(_("network"), max_length=64, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    device_id = models.CharField(_("device"), max_length=64, blank=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    risk_score = models.PositiveSmallIntegerField(_("risk score"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-occurred_at"], name="signin_user_recent"),
            models.Index(fields=["organization", "-occurred_at"], name="signin_org_recent"),
            models.Index(fields=["network", "-occurred_at"], name="signin_network_recent"),
            models.Index(fields=["device_id", "-occurred_at"], name="signin_device_recent"),
            models.Index(
                fields=["id"], condition=models.Q(evaluated_at__isnull=True), name="signin_unevaluated"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.occurred_at:%Y-%m-%d %H:%M}"


class UserSession(models.Model):
    """A portal session a user may see and end (DESIGN §4); the session data itself stays in
    Django's session store, keyed by ``session_key``."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="portal_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    device_id = models.CharField(_("device"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"
