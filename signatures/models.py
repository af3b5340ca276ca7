"""Trusted issuers and their revocation lists, and the signing certificates bound to organisations
(DESIGN §4, §7). Declarations and signature records join them with the signing issue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from brokers.models import Authorization
from signatures.refusals import refusal_sentence

Representation = Authorization.Representation


class TrustedIssuer(models.Model):
    """A CA certificate officers trust for signing certificates: a root, or an intermediate
    trusted on its own (DESIGN §7)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    name = models.CharField(_("name"), max_length=150)
    subject = models.CharField(_("subject"), max_length=1000)
    fingerprint_sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    der = models.BinaryField(_("certificate (DER)"))
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    # Where CRL_FETCH refreshes its list from; taken from the issuer's certificates when they name one.
    crl_url = models.URLField(_("revocation list address"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("trusted issuer")
        verbose_name_plural = _("trusted issuers")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class RevocationList(models.Model):
    """One CRL of a trusted issuer, as loaded (upload, command or fetch). The newest accepted one
    is the issuer's current list; older ones stay as evidence of what was known when."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Uploaded")
        FETCH = "fetch", _("Fetched from the distribution point")

    issuer = models.ForeignKey(TrustedIssuer, on_delete=models.CASCADE, related_name="revocation_lists")
    der = models.BinaryField(_("revocation list (DER)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    crl_number = models.CharField(_("CRL number"), max_length=64, blank=True)
    this_update = models.DateTimeField(_("issued at"))
    next_update = models.DateTimeField(_("next update"), null=True, blank=True)
    revoked_count = models.PositiveIntegerField(_("revoked certificates"), default=0)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("revocation list")
        verbose_name_plural = _("revocation lists")
        ordering = ["-this_update", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "sha256"], name="revocation_list_once_per_issuer")
        ]
        indexes = [models.Index(fields=["issuer", "-this_update"], name="crl_issuer_newest")]

    def __str__(self) -> str:
        return f"{self.issuer} @ {self.this_update:%Y-%m-%d %H:%M}"


class Certificate(models.Model):
    """A signing certificate bound to one organisation after proof of possession (rule 3), with
    the registration data the customs authority keeps for it (DESIGN §7)."""

    class Status(models.TextChoices):
        PENDING_PROOF = "pending_proof", _("Waiting for proof of possession")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    class SuspendedBy(models.TextChoices):
        OWNER = "owner", _("The enterprise")
        OFFICER = "officer", _("Customs")
        SYSTEM = "system", _("Automatically")

    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    issuer = models.ForeignKey(
        TrustedIssuer, verbose_name=_("issuer"), on_delete=models.PROTECT, related_name="certificates"
    )
    der = models.BinaryField(_("certificate (DER)"))
    fingerprint_sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=64)
    serial_number = models.CharField(_("serial number"), max_length=64)
    subject = models.CharField(_("subject"), max_length=1000)
    subject_tax_code = models.CharField(_("tax code in the certificate"), max_length=14)
    issuer_name = models.CharField(_("issuer name"), max_length=1000)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    # Registration data, as the authority's own registration keeps it.
    signer_name = models.CharField(_("signer's name"), max_length=150)
    signer_id_number = models.CharField(_("signer's ID number"), max_length=12)
    signer_title = models.CharField(_("signer's title"), max_length=150, blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING_PROOF
    )
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    suspended_by = models.CharField(_("suspended by"), max_length=16, choices=SuspendedBy.choices, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    bound_at = models.DateTimeField(_("bound at"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    # Proof of possession: a random text the holder signs with the private key.
    challenge = models.CharField(_("challenge"), max_length=200)
    challenge_expires_at = models.DateTimeField(_("challenge expires at"))
    # The smallest "days before expiry" reminder already sent (30, 7, 1), so each is sent once.
    expiry_reminded_days = models.PositiveSmallIntegerField(null=True, blank=True)
    custodians = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="CertificateCustodian",
        through_fields=("certificate", "user"),
        related_name="custodian_of",
        verbose_name=_("custodians"),
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            # Rule 3: one certificate, one organisation. Across organisations the service refuses
            # (and flags) any second upload; this is the database's last word on bound ones.
            models.UniqueConstraint(
                fields=["fingerprint_sha256"],
                condition=models.Q(status__in=["active", "suspended"]),
                name="certificate_bound_once",
                violation_error_code="certificate_shared",
            ),
            models.UniqueConstraint(
                fields=["organization", "fingerprint_sha256"], name="certificate_once_per_organization"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending_proof", "active", "suspended", "revoked", "expired"]),
                name="certificate_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["fingerprint_sha256"], name="certificate_fingerprint"),
            models.Index(fields=["status", "not_after"], name="certificate_expiry"),
            models.Index(fields=["issuer", "serial_number"], name="certificate_issuer_serial"),
            # "Who signed" by serial number, whatever the issuer (signatures.selectors.signature_search).
            models.Index(fields=["serial_number"], name="certificate_serial"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial_number})"


class CertificateCustodian(models.Model):
    """A signer the owner or an administrator allows to sign with a certificate (rule 1)."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="custodianships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="custodianships"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("custodian")
        verbose_name_plural = _("custodians")
        constraints = [
            models.UniqueConstraint(fields=["certificate", "user"], name="custodian_once_per_certificate")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.certificate_id}"


class AbuseReport(models.Model):
    """ "My signature or account was misused": a member's report, which suspends the certificates
    it names, stops the reported account and opens a high-severity flag for officers."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    certificates = models.ManyToManyField(Certificate, blank=True, related_name="abuse_reports")
    description = models.TextField(_("what happened"), max_length=4000)
    flag = models.ForeignKey("audit.Flag", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("misuse report")
        verbose_name_plural = _("misuse reports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.organization_id} @ {self.created_at:%Y-%m-%d}"


class Declaration(models.Model):
    """A customs declaration accepted with a valid signature (DESIGN §4). Refused attempts have no
    declaration, only their signature record."""

    class Kind(models.TextChoices):
        IMPORT = "import", _("Import")
        EXPORT = "export", _("Export")
        TRANSIT = "transit", _("Transit")

    # No index of its own: declaration_number_once_per_trader leads with it (the PROTECT check too);
    # every index costs each filing's insert.
    trader = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("trader"),
        on_delete=models.PROTECT,
        related_name="declarations",
        db_index=False,
    )
    number = models.CharField(_("declaration number"), max_length=32)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    representation = models.CharField(_("representation"), max_length=8, blank=True)
    document = models.BinaryField(_("document"))
    document_sha256 = models.CharField(_("document SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("filed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("declaration")
        verbose_name_plural = _("declarations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["trader", "number"], name="declaration_number_once_per_trader",
                violation_error_code="duplicate_declaration",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.number


class SignatureRecord(models.Model):
    """One attempt to sign a declaration, accepted or refused with its reason (DESIGN §4): refused
    attempts are kept, because an attempted misuse is evidence."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Refused")

    declaration = models.OneToOneField(
        Declaration, on_delete=models.PROTECT, null=True, blank=True, related_name="signature"
    )
    declaration_number = models.CharField(_("declaration number"), max_length=32)
    declaration_kind = models.CharField(_("kind"), max_length=16)
    # Neither party has an index of its own: signature_trader_recent and signature_signer_org_recent
    # lead with them (the PROTECT checks too); every signing attempt inserts into each index.
    trader = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures_for",
        db_index=False,
    )
    trader_tax_code = models.CharField(_("trader's tax code"), max_length=20)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signature_records"
    )
    signer_organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="signatures_made", db_index=False
    )
    agent = models.ForeignKey(
        "brokers.AgentStaff", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agent_number = models.CharField(_("agent number"), max_length=64, blank=True)
    certificate = models.ForeignKey(
        Certificate, on_delete=models.PROTECT, null=True, blank=True, related_name="signature_records"
    )
    certificate_fingerprint = models.CharField(_("certificate fingerprint"), max_length=64, blank=True)
    authorization = models.ForeignKey(
        "brokers.Authorization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signature_records",
    )
    representation = models.CharField(_("representation"), max_length=8, blank=True)
    # Kept whole up to signatures.cms.MAX_CMS_BYTES; a larger one, always refused, only by its
    # digest and size (docs/certificates.md, "What is kept").
    signature = models.BinaryField(_("signature (CMS)"))
    signature_sha256 = models.CharField(_("signature SHA-256"), max_length=64, blank=True)
    signature_size = models.PositiveIntegerField(_("signature size (bytes)"), default=0)
    document_sha256 = models.CharField(_("document SHA-256"), max_length=64)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    reason_code = models.CharField(_("reason"), max_length=64, blank=True)
    channel = models.CharField(_("channel"), max_length=16)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # When the trader was told of this signature (at once, or in its daily digest).
    noticed_at = models.DateTimeField(_("trader told at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signature record")
        verbose_name_plural = _("signature records")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The trader's history of signatures in its name, and the broker's own submissions.
            models.Index(fields=["trader", "-created_at"], name="signature_trader_recent"),
            models.Index(fields=["signer_organization", "-created_at"], name="signature_signer_org_recent"),
            # By certificate, newest first: a broker's certificate signs tens of thousands.
            models.Index(
                fields=["certificate_fingerprint", "-created_at"], name="signature_certificate_recent"
            ),
            # What an enterprise signed for another party (a broker's submissions for its clients):
            # with signature_trader_recent, the two disjoint halves of the portal's history, each
            # read in page order (signatures.selectors.SignatureHistory).
            # The id is included so the page's ids come from the index alone: the planner cannot
            # tell how few rows match (the two columns are correlated) and would otherwise prefer
            # the plain signer index and a heap visit per record of the enterprise's own staff.
            models.Index(
                fields=["signer_organization", "-created_at"],
                include=["id"],
                condition=~models.Q(trader=models.F("signer_organization")),
                name="signature_signed_for_others",
            ),
            # The officers' "who signed" search (signatures.selectors.signature_search).
            models.Index(fields=["trader_tax_code", "-created_at"], name="signature_trader_tax_code"),
            models.Index(Upper("declaration_number"), name="signature_number_ci"),
            # Newest first within an agent: a busy agent has signed thousands.
            models.Index(
                Upper("agent_number"), models.F("created_at").desc(), name="signature_agent_recent_ci"
            ),
            # What the notice sweep still has to tell traders.
            models.Index(
                fields=["created_at"],
                condition=models.Q(outcome="accepted", noticed_at__isnull=True),
                name="signature_unnoticed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.declaration_number}: {self.get_outcome_display()}"

    @property
    def kind_label(self) -> str:
        # Kept as typed (a refused attempt's kind may be no kind at all), shown by its label.
        kind = self.declaration_kind
        return Declaration.Kind(kind).label if kind in Declaration.Kind.values else kind

    @property
    def representation_label(self) -> str:
        value = self.representation
        return Representation(value).label if value in Representation.values else value

    @property
    def reason(self) -> str:
        """Why the attempt was refused, in words ("" when accepted): the code is for machines."""
        return refusal_sentence(self.reason_code) if self.reason_code else ""


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key``, replayed to its repeats."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    # Whose key it is: the API key's (``key:<prefix>``) or the signed-in user's (``user:<id>``); two
    # callers of one organisation never replay each other's answers.
    scope = models.CharField(max_length=64, default="")
    key = models.CharField(max_length=255)
    request_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "scope", "key"], name="idempotency_key_once_per_caller"
            )
        ]

    def __str__(self) -> str:
        return self.key
