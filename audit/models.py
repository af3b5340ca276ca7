"""The audit trail: append-only events, their seal (hash chain and Merkle leaves), checkpoints.

Rows are written by ``audit.services`` only. On PostgreSQL, triggers refuse any UPDATE or
DELETE that would rewrite history (see each model's ``Meta.triggers``); on SQLite the service
layer is the only writer.
"""

from __future__ import annotations

import json
import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.flag_kinds import flag_kind_label
from audit.verify_receipt import canonical_json


def no_truncate(table: str) -> pgtrigger.Trigger:
    """TRUNCATE fires no row trigger: without this a whole audit table, or every table referencing
    one with CASCADE, could be emptied in one statement. (pgtrigger's Protect has no statement-level
    TRUNCATE.)"""
    return pgtrigger.Trigger(
        name=f"{table}_no_truncate",
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        func="RAISE EXCEPTION 'pgtrigger: Cannot truncate % table', TG_TABLE_NAME;",
    )


# Every column of an event that the canonical form covers; the trigger below lists the same.
EVENT_FACT_FIELDS = (
    "event_id",
    "occurred_at",
    "action",
    "actor_id",
    "organization_id",
    "target_type",
    "target_id",
    "data",
    "channel",
    "ip",
    "user_agent",
    "request_id",
    "network_salt",
)

_FACT_UNCHANGED = " AND ".join(
    f"OLD.{column} IS NOT DISTINCT FROM NEW.{column}" for column in EVENT_FACT_FIELDS
)


class CanonicalJSONField(models.TextField):
    """JSON stored as the exact canonical text that is hashed, so no database re-encodes it
    (PostgreSQL's jsonb would reorder keys and respace it) and verification reads it verbatim."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        return None if value is None else canonical_json(value).decode()


class Action(models.TextChoices):
    """Stable codes of audited actions. Never rename one: sealed events refer to them."""

    SIGNIN_SUCCEEDED = "signin.succeeded", _("Signed in")
    SIGNIN_FAILED = "signin.failed", _("Failed sign-in")
    SIGNED_OUT = "signin.signed_out", _("Signed out")
    SIGNIN_LOCKED = "signin.locked_out", _("Sign-in locked after repeated failures")
    SESSION_ENDED = "session.ended", _("Session ended by its user")
    PASSWORD_CHANGED = "password.changed", _("Password changed")
    PASSWORD_BREACHED = "password.breached", _("Password found in a breach corpus")
    MFA_CHANGED = "mfa.changed", _("Two-factor authentication changed")
    ORGANIZATION_CREATED = "organization.created", _("Organisation registered")
    ORGANIZATION_VERIFIED = "organization.verified", _("Organisation verified")
    ORGANIZATION_SUSPENDED = "organization.suspended", _("Organisation suspended")
    ORGANIZATION_CLASSIFIED = "organization.classified", _("Compliance classification changed")
    ORGANIZATION_SETTINGS_CHANGED = "organization.settings_changed", _("Organisation settings changed")
    ORGANIZATION_REINSTATED = "organization.reinstated", _("Organisation suspension lifted")
    ORGANIZATION_NON_COOPERATION = "organization.non_cooperation", _("Non-cooperation mark changed")
    USER_CREATED = "user.created", _("Account created")
    USER_INVITED = "user.invited", _("Staff member invited")
    INVITATION_CANCELLED = "user.invitation_cancelled", _("Staff invitation cancelled")
    USER_ROLE_CHANGED = "user.role_changed", _("Role changed")
    USER_DEACTIVATED = "user.deactivated", _("Account deactivated")
    USER_SUSPENDED = "user.suspended", _("Account suspended")
    USER_REACTIVATED = "user.reactivated", _("Account reactivated")
    CONTACT_CHANGED = "user.contact_changed", _("Contact data changed")
    EMAIL_VERIFIED = "user.email_verified", _("Email address verified")
    ISSUER_ADDED = "issuer.added", _("Trusted issuer added")
    ISSUER_RETIRED = "issuer.retired", _("Trusted issuer retired")
    ISSUER_ACTIVATED = "issuer.activated", _("Trusted issuer activated again")
    CRL_IMPORTED = "crl.imported", _("Revocation list loaded")
    CRL_REFUSED = "crl.refused", _("Revocation list refused")
    CERTIFICATE_UPLOADED = "certificate.uploaded", _("Certificate uploaded")
    CERTIFICATE_BOUND = "certificate.bound", _("Certificate bound")
    CERTIFICATE_REJECTED = "certificate.rejected", _("Certificate refused")
    CERTIFICATE_SUSPENDED = "certificate.suspended", _("Certificate suspended")
    CERTIFICATE_REVOKED = "certificate.revoked", _("Certificate revoked")
    CERTIFICATE_REINSTATED = "certificate.reinstated", _("Certificate reinstated")
    CERTIFICATE_EXPIRED = "certificate.expired", _("Certificate expired")
    CUSTODIANS_CHANGED = "certificate.custodians_changed", _("Certificate custodians changed")
    ABUSE_REPORTED = "abuse.reported", _("Misuse reported")
    AUTHORIZATION_INVITED = "authorization.invited", _("Mandate invitation sent")
    AUTHORIZATION_GRANTED = "authorization.granted", _("Mandate granted")
    AUTHORIZATION_ACCEPTED = "authorization.accepted", _("Mandate accepted")
    AUTHORIZATION_DECLINED = "authorization.declined", _("Mandate declined")
    AUTHORIZATION_CANCELLED = "authorization.cancelled", _("Mandate invitation cancelled")
    AUTHORIZATION_REVOKED = "authorization.revoked", _("Mandate revoked")
    AUTHORIZATION_CHANGED = "authorization.changed", _("Mandate dates changed")
    AUTHORIZATION_EXPIRED = "authorization.expired", _("Mandate expired")
    AUTHORIZATION_SUSPENDED = "authorization.suspended", _("Mandate suspended")
    MANDATE_CODE_ISSUED = "mandate_code.issued", _("Authorisation code issued")
    MANDATE_CODE_CANCELLED = "mandate_code.cancelled", _("Authorisation code cancelled")
    LICENCE_APPLIED = "licence.applied", _("Broker licence applied for")
    LICENCE_APPLICATION_REJECTED = "licence.application_rejected", _("Broker licence application rejected")
    LICENCE_GRANTED = "licence.granted", _("Broker licence granted")
    LICENCE_RENEWED = "licence.renewed", _("Broker licence renewed")
    LICENCE_EXPIRED = "licence.expired", _("Broker licence expired")
    LICENCE_SUSPENDED = "licence.suspended", _("Broker licence suspended")
    LICENCE_REINSTATED = "licence.reinstated", _("Broker licence reinstated")
    LICENCE_REVOKED = "licence.revoked", _("Broker licence revoked")
    AGENT_PROPOSED = "agent.proposed", _("Customs agent proposed")
    AGENT_PROPOSAL_REJECTED = "agent.proposal_rejected", _("Customs agent proposal rejected")
    AGENT_REGISTERED = "agent.registered", _("Customs agent registered")
    AGENT_LEFT = "agent.left", _("Customs agent left")
    REPORT_SUBMITTED = "report.submitted", _("Operations report submitted")
    REPORT_MISSED = "report.missed", _("Operations report missed")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    DECLARATION_SIGNED = "declaration.signed", _("Declaration signed")
    DECLARATION_REJECTED = "declaration.rejected", _("Declaration signature refused")
    FLAG_RAISED = "flag.raised", _("Flag raised")
    FLAG_ANSWERED = "flag.answered", _("Flag answered")
    FLAG_RESOLVED = "flag.resolved", _("Flag resolved")
    FLAG_ASSIGNED = "flag.assigned", _("Flag taken by an officer")
    SIGNIN_REVIEWED = "signin.reviewed", _("Risky sign-in answered by its user or owner")
    SIGNIN_REVIEW_REFUSED = "signin.review_refused", _("Forged, replayed or misdirected sign-in review link")
    RISK_RESPONSE = "risk.response", _("Automatic response to a risky sign-in")
    CASE_OPENED = "case.opened", _("Case opened")
    CASE_UPDATED = "case.updated", _("Case updated")
    CASE_CLOSED = "case.closed", _("Case closed")
    OFFICER_VIEWED = "officer.viewed", _("Officer viewed sensitive data")
    AUDIT_WITNESSED = "audit.witnessed", _("Checkpoint co-signed by a witness")
    AUDIT_VERIFIED = "audit.verified", _("Audit trail verified")


class AuditEvent(models.Model):
    """One fact. Inserted in the caller's transaction; sealed later by ``audit.services.sealing``."""

    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(_("occurred at"))
    # Not a choices field: the code list grows with every feature and must not churn migrations;
    # the service validates against ``Action``.
    action = models.CharField(_("action"), max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # No index of its own: audit_event_org_time leads with it.
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organisation acted for"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    target_type = models.CharField(_("object type"), max_length=100, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    data = CanonicalJSONField(_("data"), default=dict)
    channel = models.CharField(_("channel"), max_length=16)
    ip = models.CharField(_("IP address"), max_length=45, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    # Random per event: the canonical form (format 2) commits to the three values above through a
    # salted hash, so receipts can leave them out. Null for events recorded in format 1.
    network_salt = models.BinaryField(_("network salt"), max_length=16, null=True, blank=True, editable=False)

    # The seal: all four set together, once.
    position = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True)
    chain_hash = models.BinaryField(_("chain hash"), max_length=32, null=True, blank=True)
    leaf_hash = models.BinaryField(_("Merkle leaf hash"), max_length=32, null=True, blank=True)
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            # The sealer's work queue: only unsealed rows are in it, so it stays tiny.
            models.Index(
                fields=["id"], condition=models.Q(position__isnull=True), name="audit_event_unsealed"
            ),
            # An organisation's history and an object's history. Kept to two on purpose: every
            # index costs twice per event (insert, then seal), and counts by action or actor are
            # served by the domain tables (sign-ins, signature records), not by the trail.
            models.Index(fields=["organization", "occurred_at"], name="audit_event_org_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_event_target"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        position__isnull=True,
                        chain_hash__isnull=True,
                        leaf_hash__isnull=True,
                        sealed_at__isnull=True,
                    )
                    | models.Q(
                        position__isnull=False,
                        chain_hash__isnull=False,
                        leaf_hash__isnull=False,
                        sealed_at__isnull=False,
                        position__gte=0,
                    )
                ),
                name="audit_event_seal_all_or_nothing",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="audit_event_no_delete", operation=pgtrigger.Delete),
            no_truncate("audit_event"),
            # The only UPDATE allowed: setting the seal of an unsealed event, facts unchanged.
            pgtrigger.Protect(
                name="audit_event_only_seal_once",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    f"OLD.position IS NOT NULL OR NEW.position IS NULL OR NOT ({_FACT_UNCHANGED})"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.position if self.position is not None else '—'}"

    @property
    def is_sealed(self) -> bool:
        return self.position is not None


class AuditSealState(models.Model):
    """The sealer's cursor, one row. Locking it serialises sealers across processes."""

    tree_size = models.BigIntegerField(default=0)
    last_chain_hash = models.BinaryField(max_length=32, default=bytes(32))

    class Meta:
        verbose_name = _("audit seal state")
        triggers = [
            pgtrigger.Protect(name="audit_seal_state_no_delete", operation=pgtrigger.Delete),
            no_truncate("audit_seal_state"),
        ]

    def __str__(self) -> str:
        return f"sealed up to {self.tree_size}"


class AuditTreeNode(models.Model):
    """Hash of a complete, aligned Merkle subtree of 2**level leaves, kept for every level that is a
    multiple of ``audit.selectors.NODE_STRIDE`` so proofs read O(log n) small blocks instead of leaves."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="audit_tree_node_unique")]
        triggers = [
            pgtrigger.Protect(
                name="audit_tree_node_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
            no_truncate("audit_tree_node"),
        ]

    def __str__(self) -> str:
        return f"level {self.level} #{self.index}"


class AuditCheckpoint(models.Model):
    """A signed tree head: the RFC 6962 root over the first ``tree_size`` events, chained to the
    previous checkpoint and signed with the server's Ed25519 key."""

    sequence = models.BigIntegerField(_("sequence"), unique=True)
    tree_size = models.BigIntegerField(_("tree size"), unique=True)
    root_hash = models.BinaryField(_("root hash"), max_length=32)
    chain_hash = models.BinaryField(_("chain hash"), max_length=32)
    prev_checkpoint_hash = models.BinaryField(_("previous checkpoint hash"), max_length=32, blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    key_id = models.CharField(_("key id"), max_length=16)
    signature = models.BinaryField(_("signature"), max_length=64)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["sequence"]
        triggers = [
            pgtrigger.Protect(
                name="audit_checkpoint_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
            no_truncate("audit_checkpoint"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} ({self.tree_size})"


class AuditWitnessSignature(models.Model):
    """An independent party's co-signature of a checkpoint, made with a key the application lacks."""

    checkpoint = models.ForeignKey(
        AuditCheckpoint, on_delete=models.PROTECT, related_name="witness_signatures"
    )
    key_id = models.CharField(_("witness key id"), max_length=16)
    public_key_pem = models.TextField(_("witness public key"))
    signature = models.BinaryField(_("signature"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"))

    class Meta:
        verbose_name = _("witness signature")
        verbose_name_plural = _("witness signatures")
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "key_id"], name="audit_witness_once_per_checkpoint")
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_witness_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
            no_truncate("audit_witness"),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} on {self.checkpoint}"


class Flag(models.Model):
    """Something officers (and the people concerned) should look at: a detector's finding, a
    certificate presented for two organisations, a misuse report (DESIGN §9). The same kind on the
    same subject within ``FLAG_WINDOW_HOURS`` updates the open flag instead of opening another."""

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered by the user")
        RESOLVED = "resolved", _("Resolved")

    SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}

    kind = models.CharField(_("kind"), max_length=64)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flags",
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flags",
    )
    # What the finding rests on (ids, networks, fingerprints); never secrets (validated).
    evidence = models.JSONField(_("evidence"), default=dict)
    explanation = models.TextField(_("explanation"))
    count = models.PositiveIntegerField(_("times seen"), default=1)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)
    # The officer who took the flag from the queue, before (or without) a case.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_flags",
    )

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-last_seen_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "organization", "user", "status"], name="flag_subject_open"),
            models.Index(fields=["status", "severity", "-last_seen_at"], name="flag_queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity__in=["low", "medium", "high"]), name="flag_severity_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} ({self.get_severity_display()})"

    @property
    def kind_label(self) -> str:
        return flag_kind_label(self.kind)


class Case(models.Model):
    """An officer's handling of one or more flags (DESIGN §4): who works it, where it stands and how
    it ended. Cases that tell an enterprise their outcome are closed through ``accounts.services``."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        FALSE_POSITIVE = "false_positive", _("False positive")
        CONFIRMED_MISUSE = "confirmed_misuse", _("Confirmed misuse")
        REFERRED = "referred", _("Referred for investigation")

    title = models.CharField(_("title"), max_length=200)
    flags = models.ManyToManyField(Flag, verbose_name=_("flags"), related_name="cases", blank=True)
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("enterprise concerned"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at", "-id"]
        # The officer console's own rights (what a group may do beyond one model's add/change/view).
        permissions = [
            ("view_dashboard", _("Can see the officer dashboard")),
            ("search_signatures", _("Can search who signed which declaration")),
            ("classify_enterprise", _("Can override an enterprise's compliance level")),
        ]
        constraints = [
            # A closed case says how it ended; an open one has no outcome yet.
            models.CheckConstraint(
                condition=(
                    models.Q(status="open", outcome="", closed_at__isnull=True)
                    | models.Q(
                        status="closed",
                        outcome__in=["false_positive", "confirmed_misuse", "referred"],
                        closed_at__isnull=False,
                    )
                ),
                name="case_outcome_when_closed",
            ),
        ]
        indexes = [models.Index(fields=["status", "-opened_at"], name="case_queue")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on case {self.case_id}"
