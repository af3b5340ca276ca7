from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from brokers.periods import ReportPeriod


class BrokerLicence(models.Model):
    """A customs brokerage licence; only a broker with an active licence may act for traders."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    organization = models.OneToOneField(
        "accounts.Organization", verbose_name=_("broker"), on_delete=models.PROTECT, related_name="licence"
    )
    number = models.CharField(_("licence number"), max_length=64, unique=True)
    issued_by = models.CharField(_("issuing department"), max_length=255, blank=True)
    issued_on = models.DateField(_("issued on"))
    # The last day the licence is valid; none for a licence without a term. The sweep expires it.
    expires_on = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(_("reason"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    # When the current suspension began; reinstatement restores what was suspended since then.
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("broker licence")
        verbose_name_plural = _("broker licences")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended", "revoked", "expired"]),
                name="broker_licence_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=models.F("issued_on")),
                name="broker_licence_expires_after_issue",
            ),
        ]
        # The expiry sweep's look-up: active licences with a term, by their last day.
        indexes = [
            models.Index(
                fields=["expires_on"],
                condition=models.Q(status="active", expires_on__isnull=False),
                name="broker_licence_expiring",
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


class CustomsDecision(models.Model):
    """Who at customs decided on what an enterprise submitted, when, and why."""

    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        abstract = True

    def record_decision(self, *, status: str, actor, reason: str = "", **outcome) -> None:
        """Save the decision: the new ``status``, who took it and when, the reason (a rejection's)
        and what it produced (``outcome``: the licence granted, the agent registered)."""
        self.status = status
        self.decided_by, self.decided_at, self.decision_reason = actor, timezone.now(), reason
        for name, value in outcome.items():
            setattr(self, name, value)
        self.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", *outcome])


class LicenceApplication(CustomsDecision):
    """An enterprise's application to act as a customs broker (Circular 12/2015, amended by
    22/2019): the licence number if customs already issued one, a contact, and the customs agents it
    proposes (``AgentProposal``). Officers grant it, which makes the ``BrokerLicence``, or reject it."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting review")
        GRANTED = "granted", _("Granted")
        REJECTED = "rejected", _("Rejected")

    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="licence_applications",
    )
    licence_number = models.CharField(_("licence number already issued"), max_length=64, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    contact_email = models.EmailField(_("contact email"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    licence = models.ForeignKey(
        BrokerLicence,
        verbose_name=_("licence"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )

    class Meta:
        verbose_name = _("licence application")
        verbose_name_plural = _("licence applications")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status="submitted"),
                name="licence_application_one_pending",
                violation_error_code="application_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["submitted", "granted", "rejected"]),
                name="licence_application_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} ({self.status})"


class AgentProposal(CustomsDecision):
    """A person an enterprise proposes as its customs agent, with their agent certificate number.
    Officers confirm it (which registers the ``AgentStaff`` under the licence) or reject it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="agent_proposals",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="+"
    )
    agent_number = models.CharField(_("agent certificate number"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    agent = models.OneToOneField(
        AgentStaff,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposal",
    )

    class Meta:
        verbose_name = _("agent proposal")
        verbose_name_plural = _("agent proposals")
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="proposed"),
                name="agent_proposal_one_pending_per_person",
                violation_error_code="agent_proposed",
            ),
            models.UniqueConstraint(
                fields=["agent_number"],
                condition=models.Q(status="proposed"),
                name="agent_proposal_one_pending_per_number",
                violation_error_code="agent_number_proposed",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["proposed", "confirmed", "rejected"]),
                name="agent_proposal_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.agent_number


class Authorization(models.Model):
    """A trader's mandate to a broker (DESIGN §4): which kinds of declaration, how the broker
    represents the trader, for which dates. Deny by default: without an active one, no access."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        SUSPENDED = "suspended", _("Suspended with the broker's licence")

    class Scope(models.TextChoices):
        IMPORT = "import", _("Import")
        EXPORT = "export", _("Export")
        TRANSIT = "transit", _("Transit")

    class Representation(models.TextChoices):
        DIRECT = "direct", _("Direct")
        INDIRECT = "indirect", _("Indirect")

    class Party(models.TextChoices):
        TRADER = "trader", _("Trader")
        BROKER = "broker", _("Broker")
        OFFICER = "officer", _("Customs officer")
        SYSTEM = "system", _("Automatically")

    PENDING_STATUSES = (Status.INVITED,)
    LIVE_STATUSES = (Status.INVITED, Status.ACTIVE, Status.SUSPENDED)

    trader = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("trader"),
        on_delete=models.PROTECT,
        related_name="mandates_given",
    )
    broker = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("broker"),
        on_delete=models.PROTECT,
        related_name="mandates_received",
    )
    # One column per scope, so "one pending invitation per broker, trader and scope" is three
    # plain partial unique constraints rather than a rule about array elements.
    scope_import = models.BooleanField(_("import"), default=False)
    scope_export = models.BooleanField(_("export"), default=False)
    scope_transit = models.BooleanField(_("transit"), default=False)
    representation = models.CharField(_("representation"), max_length=8, choices=Representation.choices)
    contract_number = models.CharField(_("contract number"), max_length=64)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    grantor_name = models.CharField(_("grantor's name"), max_length=150, blank=True)
    grantor_title = models.CharField(_("grantor's title"), max_length=150, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.INVITED)
    initiated_by = models.CharField(_("initiated by"), max_length=8, choices=Party.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    invitation_expires_at = models.DateTimeField(_("invitation expires at"))
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_by_party = models.CharField(_("ended by"), max_length=8, choices=Party.choices, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("reason"), max_length=500, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")
        ordering = ["-invited_at", "-pk"]
        constraints = [
            *(
                models.UniqueConstraint(
                    fields=["broker", "trader"],
                    condition=models.Q(status="invited", **{f"scope_{scope}": True}),
                    name=f"authorization_one_pending_{scope}",
                    violation_error_code="authorization_pending",
                )
                for scope in ("import", "export", "transit")
            ),
            models.CheckConstraint(
                condition=models.Q(scope_import=True)
                | models.Q(scope_export=True)
                | models.Q(scope_transit=True),
                name="authorization_has_scope",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="authorization_window_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "invited",
                        "active",
                        "declined",
                        "cancelled",
                        "expired",
                        "revoked",
                        "suspended",
                    ]
                ),
                name="authorization_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["trader", "broker", "status"], name="authorization_parties"),
            models.Index(fields=["broker", "status"], name="authorization_broker_status"),
            models.Index(fields=["status", "invitation_expires_at"], name="authorization_deadlines"),
        ]

    def __str__(self) -> str:
        return f"{self.trader_id} → {self.broker_id} ({self.get_status_display()})"

    @property
    def scopes(self) -> list[str]:
        return [scope for scope in self.Scope.values if getattr(self, f"scope_{scope}")]

    @property
    def scope_labels(self) -> list[str]:
        return [self.Scope(scope).label for scope in self.scopes]

    def not_yet_in_force(self, today) -> bool:
        """Accepted, but its first day is still ahead: nothing may be filed under it yet."""
        return self.status == self.Status.ACTIVE and self.valid_from > today

    def covers(self, kind: str, on) -> bool:
        return (
            self.status == self.Status.ACTIVE
            and getattr(self, f"scope_{kind}", False)
            and self.valid_from <= on <= self.valid_until
        )


class MandateCode(models.Model):
    """A one-time authorisation code a trader gives its broker instead of the registration date:
    short-lived, used once, and stored only as a keyed hash (the code itself is shown once)."""

    trader = models.ForeignKey(
        "accounts.Organization", verbose_name=_("trader"), on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by_broker = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("used by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("authorisation code")
        verbose_name_plural = _("authorisation codes")
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["trader", "expires_at"], name="mandate_code_trader")]

    def __str__(self) -> str:
        return f"{self.trader_id} ({self.issued_at:%Y-%m-%d})"

    @property
    def is_open(self) -> bool:
        return self.used_at is None and self.cancelled_at is None and self.expires_at > timezone.now()


class OrganizationAPIKey(AbstractAPIKey):
    """An API key of one organisation, acting as the named user who holds it: what that user's
    role does not allow, the key does not allow either (DESIGN §6). Only a hash is stored."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        DECLARE = "declare", _("Declare and sign")
        MANAGE = "manage", _("Manage certificates, mandates and reports")

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("acts as")
    )
    scopes = models.JSONField(_("scopes"), default=list)
    # Empty for a key the operator made from the command line (create_api_key).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_used_network = models.CharField(_("last used from"), max_length=64, blank=True)
    # Set by a licence suspension, cleared by the reinstatement; a revoked key stays revoked.
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    @property
    def scope_labels(self) -> list[str]:
        return [self.Scope(scope).label if scope in self.Scope.values else scope for scope in self.scopes]


class OperationReport(models.Model):
    """A broker's operations report for one period (DESIGN §4). A period past its due date without
    a report gets a ``missing`` row from the sweep, so a broker's rows follow each other period by
    period and "three consecutive missing or late reports" is its latest rows by ``period_start``."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        LATE = "late", _("Submitted late")
        MISSING = "missing", _("Missing")

    # The statuses that count towards a suspension.
    FAILED_STATUSES = (Status.LATE, Status.MISSING)
    NOTES_MAX_LENGTH = 4000

    broker = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("broker"),
        on_delete=models.PROTECT,
        related_name="operation_reports",
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    # Kept as it was when the row was written: a later change of the grace days rewrites no history.
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    # Empty while the report is missing; a late submission fills them in.
    declarations_filed = models.PositiveIntegerField(_("declarations filed"), null=True, blank=True)
    clients_served = models.PositiveIntegerField(_("clients served"), null=True, blank=True)
    staff_joined = models.PositiveIntegerField(_("agent staff joined"), null=True, blank=True)
    staff_left = models.PositiveIntegerField(_("agent staff left"), null=True, blank=True)
    notes = models.TextField(
        _("notes"), max_length=NOTES_MAX_LENGTH, blank=True, validators=[MaxLengthValidator(NOTES_MAX_LENGTH)]
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    missed_at = models.DateTimeField(_("found missing at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("operations report")
        verbose_name_plural = _("operations reports")
        ordering = ["-period_start", "-pk"]
        constraints = [
            # Also the index behind "this broker's latest reports" and the sweep's look-ups.
            models.UniqueConstraint(
                fields=["broker", "period_start"],
                name="operation_report_one_per_period",
                violation_error_code="report_exists",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["submitted", "late", "missing"]),
                name="operation_report_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    period_end__gte=models.F("period_start"), due_on__gte=models.F("period_end")
                ),
                name="operation_report_dates_ordered",
            ),
            # A filed report has its figures and its time; a missing one has neither.
            models.CheckConstraint(
                condition=models.Q(
                    status="missing",
                    submitted_at__isnull=True,
                    declarations_filed__isnull=True,
                    clients_served__isnull=True,
                    staff_joined__isnull=True,
                    staff_left__isnull=True,
                )
                | models.Q(
                    status__in=["submitted", "late"],
                    submitted_at__isnull=False,
                    declarations_filed__isnull=False,
                    clients_served__isnull=False,
                    staff_joined__isnull=False,
                    staff_left__isnull=False,
                ),
                name="operation_report_filed_has_figures",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.broker_id} {self.period.label} ({self.get_status_display()})"

    @property
    def period(self) -> ReportPeriod:
        return ReportPeriod(self.period_start, self.period_end)
