from __future__ import annotations

import datetime
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_citizen_id, validate_tax_code
from core.text import full_name

# ISO weekday order, 1 = Monday (Organization.working_days).
WEEKDAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


class Organization(models.Model):
    """An enterprise identified by its tax code: a trader (importer/exporter) or a customs broker."""

    class Kind(models.TextChoices):
        TRADER = "trader", _("Trader")
        BROKER = "broker", _("Customs broker")

    class Status(models.TextChoices):
        PENDING_VERIFICATION = "pending_verification", _("Pending verification")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    class SignatureNotice(models.TextChoices):
        EACH = "each", _("A notification for each signature")
        DAILY = "daily", _("One digest a day")

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
    # How the enterprise is told of signatures made in its name (DESIGN §9): never less than a digest.
    signature_notice = models.CharField(
        _("signature notices"), max_length=8, choices=SignatureNotice.choices, default=SignatureNotice.EACH
    )
    non_cooperation = models.BooleanField(_("marked non-cooperative"), default=False)
    non_cooperation_reason = models.TextField(_("non-cooperation reason"), blank=True)
    # The nightly classification (officers.services.compliance.compliance_classify) and an officer's override:
    # the override, while set, decides ``compliance_level``; the computed level is kept beside it.
    compliance_computed_level = models.CharField(
        _("computed compliance level"), max_length=16, choices=ComplianceLevel.choices, blank=True
    )
    compliance_reasons = models.JSONField(_("classification reasons"), default=list, blank=True)
    compliance_classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    compliance_override_level = models.CharField(
        _("compliance level set by an officer"), max_length=16, choices=ComplianceLevel.choices, blank=True
    )
    compliance_override_reason = models.TextField(_("reason for the officer's level"), blank=True)
    compliance_override_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("level set by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    compliance_override_at = models.DateTimeField(_("level set at"), null=True, blank=True)
    # Declared working hours, for the ``off_hours`` risk detector (DESIGN §9). Days are ISO
    # weekday numbers 1 (Monday) to 7; Saturday mornings are ordinary customs business hours.
    working_hours_start = models.TimeField(_("working hours start"), default=datetime.time(7, 0))
    working_hours_end = models.TimeField(_("working hours end"), default=datetime.time(19, 0))
    working_days = models.CharField(_("working days"), max_length=7, default="123456")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Ho_Chi_Minh")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        indexes = [
            # The public broker directory (brokers.selectors.broker_directory): the two thousand
            # brokers among a hundred thousand enterprises, in the directory's order, without
            # reading the others.
            models.Index(fields=["name"], condition=models.Q(kind="broker"), name="organization_broker_name"),
        ]
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

    # The compliance pyramid: what customs does with each level, and the control channel it suggests
    # for the enterprise's declarations (green: no check, yellow: documents, red: physical).
    SEGMENTS = {
        ComplianceLevel.PRIORITISED: _("Willing to comply: make it easy"),
        ComplianceLevel.HIGH: _("Willing to comply: make it easy"),
        ComplianceLevel.MODERATE: _("Tries to comply: help to comply"),
        ComplianceLevel.POOR: _("Does not want to comply: deter by detection"),
        ComplianceLevel.NON_COMPLIANT: _("Has decided not to comply: full force of the law"),
        ComplianceLevel.UNCLASSIFIED: _("Not yet classified"),
    }

    class Channel(models.TextChoices):
        GREEN = "green", _("green")
        YELLOW = "yellow", _("yellow")
        RED = "red", _("red")

    CHANNELS = {
        ComplianceLevel.PRIORITISED: Channel.GREEN,
        ComplianceLevel.HIGH: Channel.GREEN,
        ComplianceLevel.MODERATE: Channel.YELLOW,
        ComplianceLevel.POOR: Channel.RED,
        ComplianceLevel.NON_COMPLIANT: Channel.RED,
        ComplianceLevel.UNCLASSIFIED: Channel.YELLOW,
    }

    @property
    def compliance_segment(self) -> str:
        return str(self.SEGMENTS[self.compliance_level])

    @property
    def suggested_channel(self) -> str:
        return self.CHANNELS[self.compliance_level]

    @property
    def suggested_channel_label(self) -> str:
        return self.Channel(self.suggested_channel).label

    @property
    def working_days_label(self) -> str:
        """The declared working days by name ("Monday, …"), not their ISO digits ("123456")."""
        names = dict(zip("1234567", WEEKDAY_NAMES, strict=True))
        return ", ".join(str(names[day]) for day in self.working_days if day in names)


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
    # The roles an owner or administrator can give; there is one owner, the one who registered.
    STAFF_ROLES = (Role.ADMINISTRATOR, Role.DECLARANT, Role.SIGNER, Role.VIEWER)
    MANAGER_ROLES = (Role.OWNER, Role.ADMINISTRATOR)

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
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    # Set by the risk engine: every session proved before this moment must prove itself again.
    step_up_required_at = models.DateTimeField(_("re-authentication required since"), null=True, blank=True)

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

    def get_full_name(self) -> str:
        # Django's own puts the given name first ("An Nguyễn Văn"); a Vietnamese name, and every
        # register customs keeps, reads family name first.
        return full_name(family=self.last_name, given=self.first_name)

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def is_officer(self) -> bool:
        return self.role == self.Role.OFFICER

    @property
    def is_manager(self) -> bool:
        return self.organization_id is not None and self.role in self.MANAGER_ROLES

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

    class Factor(models.TextChoices):
        PASSWORD = "password", _("Password")
        SECOND_FACTOR = "second_factor", _("Second factor")

    # No index of their own: signin_user_recent and signin_org_recent lead with these columns and
    # serve the same lookups (the PROTECT checks too); every index costs each sign-in's insert and
    # its evaluation's update.
    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sign_ins",
        db_index=False,
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # For an attempt on a name that matches no account only a digest is kept: people type their
    # password into the username field, and the name itself would tell which accounts exist.
    username_digest = models.CharField(_("username digest"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    # Which proof failed: a wrong code after a right password is a stolen password.
    factor = models.CharField(_("factor"), max_length=16, choices=Factor.choices, default=Factor.PASSWORD)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    network = models.CharField(_("network"), max_length=64, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    device_id = models.CharField(_("device"), max_length=64, blank=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    risk_score = models.PositiveSmallIntegerField(_("risk score"), null=True, blank=True)
    # What the detectors found: [{"detector", "severity", "score", "message", "params", "flag"}].
    risk_reasons = models.JSONField(_("risk reasons"), default=list, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        ordering = ["-occurred_at", "-id"]
        # The risk history's parts (accounts.selectors) read only these indexes' columns, so they
        # are index-only scans: a user's sign-ins, and each network's and device's, lie scattered
        # over the table, and reading them from the heap was most of the history's cost.
        indexes = [
            models.Index(
                fields=["user", "-occurred_at"],
                include=["id", "outcome", "factor", "device_id", "network"],
                name="signin_user_recent",
            ),
            models.Index(fields=["organization", "-occurred_at"], name="signin_org_recent"),
            models.Index(
                fields=["network", "-occurred_at"],
                include=["id", "outcome", "organization_id", "device_id"],
                name="signin_network_recent",
            ),
            models.Index(
                fields=["device_id", "-occurred_at"],
                include=["id", "outcome", "organization_id", "network"],
                name="signin_device_recent",
            ),
            models.Index(
                fields=["id"], condition=models.Q(evaluated_at__isnull=True), name="signin_unevaluated"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def risk_severity(self) -> str:
        ranks = {"low": 0, "medium": 1, "high": 2}
        severities = [reason.get("severity", "low") for reason in self.risk_reasons or []]
        return max(severities, key=lambda s: ranks.get(s, 0), default="")


class KnownPlace(models.Model):
    """A device or network its user confirmed ("this was me"): the risk engine no longer treats
    it as new for that user, whatever the history window says."""

    class Kind(models.TextChoices):
        DEVICE = "device", _("Device")
        NETWORK = "network", _("Network")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_places")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=64)
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("known device or network")
        verbose_name_plural = _("known devices and networks")
        constraints = [models.UniqueConstraint(fields=["user", "kind", "value"], name="known_place_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.value}"


def review_nonce() -> str:
    return secrets.token_hex(16)


class SignInReview(models.Model):
    """One recipient's "was this you?" question about a risky sign-in. The emailed links carry a
    signature over (id, nonce); answering is a conditional update on ``answered_at``, so a link
    works once, and the first answer to an event closes its other recipients' questions."""

    class Answer(models.TextChoices):
        ME = "me", _("This was me")
        NOT_ME = "not_me", _("This was not me")
        SUPERSEDED = "superseded", _("Answered by someone else")

    event = models.ForeignKey(SignInEvent, on_delete=models.CASCADE, related_name="reviews")
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # Not a secret on its own: a link also needs the server's signature over it.
    nonce = models.CharField(max_length=32, default=review_nonce)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=16, choices=Answer.choices, blank=True)
    answered_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("sign-in review")
        verbose_name_plural = _("sign-in reviews")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"review of {self.event_id} by {self.recipient_id}"


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


class Notification(models.Model):
    """Something the user should know about their account, listed in the portal and emailed.

    Only the kind and harmless parameters are stored: the text is rendered in the reader's language
    when shown, so a Vietnamese owner and an English-speaking administrator read the same event."""

    class Kind(models.TextChoices):
        NEW_DEVICE = "new_device", _("Sign-in from a new device")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_BREACHED = "password_breached", _("Password found in a breach list")
        MFA_ENABLED = "mfa_enabled", _("Two-factor authentication turned on")
        MFA_DISABLED = "mfa_disabled", _("Two-factor authentication turned off")
        RECOVERY_CODES = "recovery_codes", _("New recovery codes")
        RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
        LOCKED_OUT = "locked_out", _("Sign-in locked")
        CONTACT_CHANGED = "contact_changed", _("Contact details changed")
        ROLE_CHANGED = "role_changed", _("Role changed")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        ACCOUNT_REACTIVATED = "account_reactivated", _("Account reactivated")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        CERTIFICATE_BOUND = "certificate_bound", _("Certificate bound")
        CERTIFICATE_EXPIRING = "certificate_expiring", _("Certificate about to expire")
        CERTIFICATE_SUSPENDED = "certificate_suspended", _("Certificate suspended")
        CERTIFICATE_REINSTATED = "certificate_reinstated", _("Certificate reinstated")
        CERTIFICATE_REVOKED = "certificate_revoked", _("Certificate revoked")
        CERTIFICATE_EXPIRED = "certificate_expired", _("Certificate expired")
        CUSTODIANS_CHANGED = "custodians_changed", _("Certificate custodians changed")
        ABUSE_REPORTED = "abuse_reported", _("Misuse reported")
        LICENCE_GRANTED = "licence_granted", _("Broker licence granted")
        LICENCE_REJECTED = "licence_rejected", _("Broker licence application rejected")
        LICENCE_EXPIRED = "licence_expired", _("Broker licence expired")
        LICENCE_SUSPENDED = "licence_suspended", _("Broker licence suspended")
        LICENCE_REINSTATED = "licence_reinstated", _("Broker licence reinstated")
        LICENCE_REVOKED = "licence_revoked", _("Broker licence revoked")
        # For registrars: a decision awaits them in the officer console.
        LICENCE_APPLIED = "licence_applied", _("New customs brokerage licence application")
        AGENT_PROPOSED = "agent_proposed", _("New customs agent proposal")
        MANDATE_INVITED = "mandate_invited", _("Mandate proposed")
        MANDATE_CHANGED = "mandate_changed", _("Mandate changed")
        MANDATE_EXPIRING = "mandate_expiring", _("Mandate invitation about to expire")
        REPORT_DUE = "report_due", _("Operations report missing")
        DECLARATION_SIGNED = "declaration_signed", _("Declaration signed in your name")
        DECLARATION_DIGEST = "declaration_digest", _("Declarations signed in your name yesterday")
        CASE_CLOSED = "case_closed", _("Customs closed a case about your enterprise")
        SIGNIN_REVIEW = "signin_review", _("Was this you?")
        RISK_RESPONSE = "risk_response", _("Account protected after a risky sign-in")

    # Indexed only by the two indexes below: both lead with the user (the CASCADE too), and nothing
    # reads notifications by time across users; each index costs every notification's insert, a
    # few per risky sign-in and one per signature made in a trader's name.
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications", db_index=False)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    params = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"


class Lockout(models.Model):
    """One lock-out django-axes imposed; the count of recent ones makes the next cool-off longer."""

    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    username_digest = models.CharField(_("username digest"), max_length=64)
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    locked_at = models.DateTimeField(_("locked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lock-out")
        verbose_name_plural = _("lock-outs")
        ordering = ["-locked_at", "-id"]
        indexes = [
            models.Index(fields=["ip", "-locked_at"], name="lockout_ip_recent"),
            models.Index(fields=["username_digest", "-locked_at"], name="lockout_username_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.ip} @ {self.locked_at:%Y-%m-%d %H:%M}"


from accounts.models.invitations import StaffInvitation  # noqa: E402
from accounts.models.second_factor import RecoveryCode, RecoveryCodeDevice  # noqa: E402

__all__ = [
    "WEEKDAY_NAMES", "KnownPlace", "Lockout", "Notification", "Organization", "PasswordHistory",
    "RecoveryCode", "RecoveryCodeDevice", "SignInEvent", "SignInReview", "StaffInvitation", "User",
    "UserSession",
]  # fmt: skip
