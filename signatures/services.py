"""Writes for trusted issuers, revocation lists and certificates (DESIGN §4, §5 rules 1 and 3, §7).

Every function is one use case. A refusal raises ``CertificateRefused`` (an ``ApplicationError``
with the code of the check that failed) and changes nothing but the audit trail: refused bindings
are evidence, recorded in a transaction of their own.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, Organization, User
from accounts.services import (
    case_open,
    notification_send,
    organization_verify,
    require_officer,
    require_reason,
    sessions_end_all,
)
from accounts.validators import normalize_tax_code
from audit.models import Action, Case, Flag
from audit.services.events import audit_event_record
from audit.services.flags import flag_raise
from brokers.models import AgentStaff, Authorization, BrokerLicence
from brokers.services import agent_is_current
from core.errors import ApplicationError
from core.prepared import PreparedInsert, PreparedQuery
from core.tasks import run_on_commit_without_beat
from signatures import pki
from signatures.cms import SignatureError, verify_detached, verify_proof_of_possession
from signatures.models import (
    AbuseReport,
    Certificate,
    CertificateCustodian,
    Declaration,
    RevocationList,
    SignatureRecord,
    TrustedIssuer,
)
from signatures.selectors import current_crls, trusted_issuer_certificates

logger = logging.getLogger(__name__)


class CertificateRefused(ApplicationError):
    code = "certificate_refused"


def _now() -> datetime.datetime:
    return timezone.now()


def _require_manager_of(actor: User, organization_id: int) -> None:
    if actor.organization_id != organization_id or not actor.is_manager:
        raise ApplicationError(
            gettext("Only the enterprise's owner or an administrator can do this."),
            code="not_allowed",
            status_code=403,
        )


# --- trusted issuers and revocation lists ---------------------------------------------------------


def _crl_url_of(cert: x509.Certificate) -> str:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return ""
    for point in points:
        for name in point.full_name or []:
            if isinstance(name, x509.UniformResourceIdentifier) and name.value.startswith(
                ("http://", "https://")
            ):
                return name.value[:500]
    return ""


@transaction.atomic
def trusted_issuer_add(*, data: bytes, name: str, actor: User | None, crl_url: str = "") -> TrustedIssuer:
    """Trust a CA certificate (root or intermediate, PEM or DER). Raises ``CertificateRefused``:
    ``certificate_malformed``, ``issuer_not_ca``, ``certificate_weak_algorithm``, ``issuer_expired``,
    ``issuer_duplicate``. Records ``issuer.added``."""
    require_officer(actor, system_allowed=True)
    try:
        cert = pki.load_certificate(data)
        if not pki.is_ca_certificate(cert):
            raise pki.CertificateError("issuer_not_ca", gettext("This is not a CA certificate."))
        pki.check_algorithm_policy(cert)
    except pki.CertificateError as error:
        raise CertificateRefused(error.message, code=error.code) from None
    if cert.not_valid_after_utc <= _now():
        raise CertificateRefused(gettext("This CA certificate has expired."), code="issuer_expired")
    fingerprint = pki.fingerprint_sha256(cert)
    if TrustedIssuer.objects.filter(fingerprint_sha256=fingerprint).exists():
        raise CertificateRefused(gettext("This issuer is already on the list."), code="issuer_duplicate")
    issuer = TrustedIssuer.objects.create(
        name=name.strip()[:150] or (pki.subject_common_name(cert) or cert.subject.rfc4514_string())[:150],
        subject=cert.subject.rfc4514_string()[:1000],
        fingerprint_sha256=fingerprint,
        der=cert.public_bytes(Encoding.DER),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        crl_url=crl_url or _crl_url_of(cert),
        added_by=actor,
    )
    audit_event_record(
        action=Action.ISSUER_ADDED,
        actor=actor,
        target=issuer,
        data={"fingerprint": fingerprint, "subject": issuer.subject[:300]},
    )
    return issuer


@transaction.atomic
def trusted_issuer_set_status(*, issuer: TrustedIssuer, status: str, actor: User | None) -> TrustedIssuer:
    """Retire an issuer (certificates it issued no longer validate) or make it active again."""
    require_officer(actor, system_allowed=True)
    issuer = TrustedIssuer.objects.select_for_update().get(pk=issuer.pk)
    if issuer.status == status:
        return issuer
    issuer.status = status
    issuer.status_changed_at = _now()
    issuer.save(update_fields=["status", "status_changed_at"])
    action = Action.ISSUER_RETIRED if status == TrustedIssuer.Status.RETIRED else Action.ISSUER_ACTIVATED
    audit_event_record(
        action=action, actor=actor, target=issuer, data={"fingerprint": issuer.fingerprint_sha256}
    )
    return issuer


def crl_import(
    *, data: bytes, actor: User | None, source: str = RevocationList.Source.UPLOAD
) -> RevocationList:
    """Load a CRL for one of the trusted issuers. Accepted only if its issuer is trusted and signed
    it, it is current (issued in the past, next update in the future) and not older than the list
    already held. Certificates it lists become ``revoked``. Raises ``CertificateRefused``:
    ``crl_malformed``, ``crl_issuer_unknown``, ``crl_invalid``, ``crl_not_current``, ``crl_outdated``.
    Records ``crl.imported`` (or ``crl.refused``)."""
    require_officer(actor, system_allowed=True)
    try:
        return _crl_import(data=data, actor=actor, source=source)
    except CertificateRefused as refusal:
        with transaction.atomic():
            audit_event_record(
                action=Action.CRL_REFUSED,
                actor=actor,
                data={"code": refusal.code, "sha256": hashlib.sha256(data).hexdigest(), "source": source},
            )
        raise


@transaction.atomic
def _crl_import(*, data: bytes, actor: User | None, source: str) -> RevocationList:
    try:
        crl = pki.load_crl(data)
    except pki.CertificateError as error:
        raise CertificateRefused(error.message, code=error.code) from None
    now = _now()
    issuer = None
    for candidate in TrustedIssuer.objects.filter(status=TrustedIssuer.Status.ACTIVE):
        cert = x509.load_der_x509_certificate(bytes(candidate.der))
        if cert.subject == crl.issuer:
            issuer, issuer_cert = candidate, cert
            break
    if issuer is None:
        raise CertificateRefused(
            gettext("No active trusted issuer published this revocation list."), code="crl_issuer_unknown"
        )
    if not pki.crl_signed_by(crl, issuer_cert):
        raise CertificateRefused(
            gettext("The revocation list is not signed by its issuer."), code="crl_invalid"
        )
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    except x509.ExtensionNotFound:
        pass
    else:
        raise CertificateRefused(
            gettext("A delta revocation list cannot be used on its own."), code="crl_invalid"
        )
    if crl.last_update_utc > now + datetime.timedelta(minutes=5) or (
        crl.next_update_utc is not None and crl.next_update_utc < now
    ):
        raise CertificateRefused(
            gettext("The revocation list is not current: its next update is already past."),
            code="crl_not_current",
        )
    sha256 = hashlib.sha256(crl.public_bytes(Encoding.DER)).hexdigest()
    current = RevocationList.objects.filter(issuer=issuer).order_by("-this_update", "-pk").first()
    if current is not None and current.sha256 == sha256:
        return current
    if current is not None and current.this_update > crl.last_update_utc:
        raise CertificateRefused(
            gettext("A newer revocation list of this issuer is already loaded."), code="crl_outdated"
        )
    try:
        number = str(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        number = ""
    revocation_list = RevocationList.objects.create(
        issuer=issuer,
        der=crl.public_bytes(Encoding.DER),
        sha256=sha256,
        crl_number=number[:64],
        this_update=crl.last_update_utc,
        next_update=crl.next_update_utc,
        revoked_count=len(crl),
        source=source,
        loaded_by=actor,
    )
    audit_event_record(
        action=Action.CRL_IMPORTED,
        actor=actor,
        target=revocation_list,
        data={"issuer": issuer.fingerprint_sha256, "sha256": sha256, "revoked": len(crl), "source": source},
    )
    listed = {format(entry.serial_number, "x") for entry in crl}
    for certificate in Certificate.objects.select_for_update().filter(
        issuer=issuer,
        serial_number__in=listed,
        status__in=[
            Certificate.Status.PENDING_PROOF,
            Certificate.Status.ACTIVE,
            Certificate.Status.SUSPENDED,
        ],
    ):
        _set_status(
            certificate,
            Certificate.Status.REVOKED,
            actor=None,
            reason=gettext("Listed in the issuer's revocation list."),
            action=Action.CERTIFICATE_REVOKED,
            data={"by": "crl", "crl": sha256},
        )
    return revocation_list


def crls_refresh(*, fetch=None) -> dict[str, str]:
    """With ``CRL_FETCH``, download each active issuer's CRL from its distribution point and load
    it; a failed download or a refused list keeps the last good one. Returns issuer → outcome."""
    fetch = fetch or _download
    outcomes = {}
    for issuer in TrustedIssuer.objects.filter(status=TrustedIssuer.Status.ACTIVE).exclude(crl_url=""):
        try:
            data = fetch(issuer.crl_url)
            crl_import(data=data, actor=None, source=RevocationList.Source.FETCH)
        except CertificateRefused as refusal:
            outcomes[issuer.fingerprint_sha256] = refusal.code
        except OSError:
            outcomes[issuer.fingerprint_sha256] = "unreachable"
        else:
            outcomes[issuer.fingerprint_sha256] = "loaded"
    return outcomes


def _download(url: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise OSError("only http and https distribution points are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "csg-crl-fetch"})  # noqa: S310 - scheme checked
    with urllib.request.urlopen(request, timeout=settings.CRL_FETCH_TIMEOUT) as response:  # noqa: S310
        return response.read(pki.MAX_CRL_BYTES + 1)


def crls_flag_stale(*, now: datetime.datetime | None = None) -> int:
    """Raise a ``crl_stale`` flag for each active issuer whose newest CRL's next update is past:
    revocations published since are unknown to us. Returns how many issuers are stale."""
    now = now or _now()
    stale = 0
    for issuer, crl in current_crls().values():
        if crl is not None and crl.next_update is not None and crl.next_update < now:
            stale += 1
            flag_raise(
                kind="crl_stale",
                severity=Flag.Severity.MEDIUM,
                explanation=(
                    f"The revocation list of {issuer.name} is out of date since "
                    f"{crl.next_update:%Y-%m-%d %H:%M} UTC."
                ),
                evidence={"issuer": issuer.fingerprint_sha256, "next_update": crl.next_update.isoformat()},
            )
    return stale


# --- binding ------------------------------------------------------------------------------------


CHALLENGE_PREFIX = "csg-proof-of-possession"


def _new_challenge(organization: Organization, fingerprint: str) -> str:
    return f"{CHALLENGE_PREFIX}:{organization.tax_code}:{fingerprint[:16]}:{secrets.token_hex(16)}"


def _record_refusal(*, actor: User, organization: Organization, code: str, fingerprint: str = "") -> None:
    with transaction.atomic():
        audit_event_record(
            action=Action.CERTIFICATE_REJECTED,
            actor=actor,
            organization=organization,
            data={"code": code, "fingerprint": fingerprint},
        )


def _may_bind(actor: User, organization: Organization) -> bool:
    # Managers bind for the enterprise; a signer may bind the certificate they will sign with.
    return actor.organization_id == organization.pk and actor.role in (
        User.Role.OWNER,
        User.Role.ADMINISTRATOR,
        User.Role.SIGNER,
    )


def certificate_upload(
    *,
    actor: User,
    data: bytes,
    signer_name: str,
    signer_id_number: str,
    signer_title: str = "",
) -> Certificate:
    """Step one of binding: check the certificate and hand out a challenge valid for
    ``CERTIFICATE_CHALLENGE_SECONDS``. The checks, in order, each with its own code:
    ``certificate_too_large``, ``certificate_bundle``, ``certificate_malformed``,
    ``certificate_not_end_entity``, ``certificate_weak_algorithm``, ``certificate_key_usage``,
    ``certificate_expired`` / ``certificate_not_yet_valid``, ``certificate_untrusted``,
    ``certificate_revoked``, ``certificate_no_tax_code``, ``certificate_tax_code_mismatch``,
    ``certificate_shared`` (bound or offered elsewhere: refused and flagged for officers),
    ``certificate_already_bound``. A certificate already waiting for proof gets a new challenge."""
    organization = actor.organization
    if organization is None or not _may_bind(actor, organization):
        raise ApplicationError(
            gettext("Only the enterprise's owner, an administrator or a signer can bind a certificate."),
            code="not_allowed",
            status_code=403,
        )
    fingerprint = ""
    try:
        if len(data) > settings.MAX_CERT_UPLOAD_BYTES:
            raise CertificateRefused(
                gettext("The file is larger than %(limit)d bytes.")
                % {"limit": settings.MAX_CERT_UPLOAD_BYTES},
                code="certificate_too_large",
            )
        if data.count(b"-----BEGIN CERTIFICATE-----") > 1:
            raise CertificateRefused(
                gettext("The file holds several certificates; upload only the signing certificate."),
                code="certificate_bundle",
            )
        try:
            cert = pki.load_certificate(data)
            fingerprint = pki.fingerprint_sha256(cert)
            validation = pki.validate_signing_certificate(
                cert, trusted_issuer_certificates(), _crls_by_fingerprint(), _now()
            )
        except pki.CertificateError as error:
            raise CertificateRefused(error.message, code=error.code) from None
        # Presented elsewhere first: a lent certificate carries the lender's tax code, and the
        # attempt is evidence whatever else is wrong with it.
        elsewhere = Certificate.objects.filter(fingerprint_sha256=fingerprint).exclude(
            organization=organization
        )
        if elsewhere.exists():
            _flag_shared(
                fingerprint, organization, actor, list(elsewhere.values_list("organization_id", flat=True))
            )
            raise CertificateRefused(
                gettext("This certificate belongs to another organisation and cannot be bound here."),
                code="certificate_shared",
            )
        tax_code = pki.subject_tax_code(cert)
        if tax_code is None:
            raise CertificateRefused(
                gettext("The certificate names no tax code (UID=MST:…)."), code="certificate_no_tax_code"
            )
        if tax_code != organization.tax_code:
            raise CertificateRefused(
                gettext("The certificate is for tax code %(certificate)s, not %(organization)s.")
                % {"certificate": tax_code, "organization": organization.tax_code},
                code="certificate_tax_code_mismatch",
            )
        return _store_upload(
            actor, organization, cert, validation, signer_name, signer_id_number, signer_title
        )
    except CertificateRefused as refusal:
        _record_refusal(actor=actor, organization=organization, code=refusal.code, fingerprint=fingerprint)
        raise


def _crls_by_fingerprint() -> dict[str, x509.CertificateRevocationList]:
    return {
        issuer.fingerprint_sha256: x509.load_der_x509_crl(bytes(crl.der))
        for issuer, crl in current_crls().values()
        if crl is not None
    }


def _flag_shared(fingerprint: str, organization: Organization, actor: User, others: list[int]) -> None:
    with transaction.atomic():
        flag_raise(
            kind="certificate_shared",
            severity=Flag.Severity.HIGH,
            user=actor,
            organization=organization,
            explanation=(
                "A certificate bound to (or offered by) another organisation was presented for this one."
            ),
            evidence={
                "fingerprint": fingerprint,
                "other_organizations": [str(pk) for pk in sorted(set(others))],
            },
        )


@transaction.atomic
def _store_upload(actor, organization, cert, validation, signer_name, signer_id_number, signer_title):
    fingerprint = pki.fingerprint_sha256(cert)
    existing = (
        Certificate.objects.select_for_update()
        .filter(organization=organization, fingerprint_sha256=fingerprint)
        .first()
    )
    now = _now()
    expires = now + datetime.timedelta(seconds=settings.CERTIFICATE_CHALLENGE_SECONDS)
    if existing is not None and existing.status != Certificate.Status.PENDING_PROOF:
        raise CertificateRefused(
            gettext("This certificate is already bound to your enterprise."), code="certificate_already_bound"
        )
    issuer = TrustedIssuer.objects.get(fingerprint_sha256=pki.fingerprint_sha256(validation.chain[-1]))
    details = {
        "signer_name": signer_name.strip()[:150],
        "signer_id_number": signer_id_number.strip(),
        "signer_title": signer_title.strip()[:150],
    }
    certificate = existing or Certificate(
        organization=organization,
        issuer=issuer,
        der=cert.public_bytes(Encoding.DER),
        fingerprint_sha256=fingerprint,
        serial_number=format(cert.serial_number, "x"),
        subject=cert.subject.rfc4514_string()[:1000],
        subject_tax_code=pki.subject_tax_code(cert),
        issuer_name=cert.issuer.rfc4514_string()[:1000],
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        uploaded_by=actor,
    )
    for name, value in details.items():
        setattr(certificate, name, value)
    certificate.challenge = _new_challenge(organization, fingerprint)
    certificate.challenge_expires_at = expires
    certificate.full_clean(exclude=["der", "issuer", "organization", "uploaded_by"])
    certificate.save()
    audit_event_record(
        action=Action.CERTIFICATE_UPLOADED,
        actor=actor,
        organization=organization,
        target=certificate,
        data={
            "fingerprint": fingerprint,
            "serial": certificate.serial_number,
            "issuer": issuer.fingerprint_sha256,
            "crl_missing": validation.crl_missing,
            "crl_stale": validation.crl_stale,
        },
    )
    return certificate


def certificate_prove(*, certificate: Certificate, proof: bytes, actor: User) -> Certificate:
    """Step two: ``proof`` is the challenge signed with the certificate's private key (a raw
    ``openssl dgst -sign`` signature or a CMS from ``openssl cms -sign``). The certificate is checked
    again (it may have been revoked meanwhile) and becomes ``active``; a signer who binds it is its
    first custodian, and a ``pending_verification`` enterprise whose tax code it carries is verified.
    Raises ``CertificateRefused``: ``challenge_used``, ``challenge_expired``, ``proof_invalid``, or a
    check of ``certificate_upload``."""
    organization = certificate.organization
    if not _may_bind(actor, organization):
        raise ApplicationError(gettext("No such certificate."), code="not_found", status_code=404)
    try:
        return _prove(certificate, proof, actor)
    except CertificateRefused as refusal:
        _record_refusal(
            actor=actor,
            organization=organization,
            code=refusal.code,
            fingerprint=certificate.fingerprint_sha256,
        )
        raise


@transaction.atomic
def _prove(certificate: Certificate, proof: bytes, actor: User) -> Certificate:
    certificate = (
        Certificate.objects.select_for_update().select_related("organization").get(pk=certificate.pk)
    )
    organization = certificate.organization
    if certificate.status != Certificate.Status.PENDING_PROOF:
        raise CertificateRefused(
            gettext("This challenge was already answered; upload the certificate again for a new one."),
            code="challenge_used",
        )
    if certificate.challenge_expires_at <= _now():
        raise CertificateRefused(
            gettext("The challenge has expired; upload the certificate again for a new one."),
            code="challenge_expired",
        )
    cert = x509.load_der_x509_certificate(bytes(certificate.der))
    try:
        verify_proof_of_possession(cert, proof, certificate.challenge.encode("ascii"))
    except SignatureError:
        raise CertificateRefused(
            gettext("The proof is not the challenge signed with this certificate's private key."),
            code="proof_invalid",
        ) from None
    try:
        pki.validate_signing_certificate(cert, trusted_issuer_certificates(), _crls_by_fingerprint(), _now())
    except pki.CertificateError as error:
        raise CertificateRefused(error.message, code=error.code) from None
    if Certificate.objects.filter(
        fingerprint_sha256=certificate.fingerprint_sha256,
        status__in=[Certificate.Status.ACTIVE, Certificate.Status.SUSPENDED],
    ).exists():
        raise CertificateRefused(gettext("This certificate is bound elsewhere."), code="certificate_shared")
    now = _now()
    certificate.status = Certificate.Status.ACTIVE
    certificate.bound_at = certificate.status_changed_at = now
    # Spent: the same signature can never bind anything again.
    certificate.challenge_expires_at = now
    try:
        with transaction.atomic():
            certificate.save(
                update_fields=["status", "bound_at", "status_changed_at", "challenge_expires_at"]
            )
    except IntegrityError:  # a concurrent binding of the same certificate won
        raise CertificateRefused(
            gettext("This certificate is bound elsewhere."), code="certificate_shared"
        ) from None
    if actor.role == User.Role.SIGNER:
        CertificateCustodian.objects.get_or_create(
            certificate=certificate, user=actor, defaults={"added_by": actor}
        )
    audit_event_record(
        action=Action.CERTIFICATE_BOUND,
        actor=actor,
        organization=organization,
        target=certificate,
        data={"fingerprint": certificate.fingerprint_sha256, "serial": certificate.serial_number},
    )
    if organization.status == Organization.Status.PENDING_VERIFICATION:
        organization_verify(organization=organization, actor=None, reason="certificate_bound")
    _tell_managers(certificate, Notification.Kind.CERTIFICATE_BOUND)
    return certificate


def _tell_managers(certificate: Certificate, kind: str, **params) -> None:
    for manager in User.objects.filter(
        organization=certificate.organization, role__in=User.MANAGER_ROLES, is_active=True
    ):
        notification_send(user=manager, kind=kind, certificate=certificate.subject[:200], **params)


# --- custodians -----------------------------------------------------------------------------------


@transaction.atomic
def custodians_set(*, certificate: Certificate, users: list[User], actor: User) -> list[User]:
    """Name the signers who may sign with ``certificate`` (rule 1). Only ``signer``-role, active
    members of the certificate's own enterprise qualify (``custodian_invalid``). Records
    ``certificate.custodians_changed`` with who was added and removed, and tells the managers."""
    _require_manager_of(actor, certificate.organization_id)
    for user in users:
        if (
            user.organization_id != certificate.organization_id
            or user.role != User.Role.SIGNER
            or not user.is_active
        ):
            raise ApplicationError(
                gettext("Only active signers of your enterprise can hold a certificate."),
                code="custodian_invalid",
            )
    current = set(certificate.custodianships.values_list("user_id", flat=True))
    wanted = {user.pk for user in users}
    added, removed = wanted - current, current - wanted
    if not added and not removed:
        return users
    CertificateCustodian.objects.filter(certificate=certificate, user_id__in=removed).delete()
    CertificateCustodian.objects.bulk_create(
        CertificateCustodian(certificate=certificate, user_id=pk, added_by=actor) for pk in sorted(added)
    )
    audit_event_record(
        action=Action.CUSTODIANS_CHANGED,
        actor=actor,
        organization=certificate.organization,
        target=certificate,
        data={"added": [str(pk) for pk in sorted(added)], "removed": [str(pk) for pk in sorted(removed)]},
    )
    _tell_managers(certificate, Notification.Kind.CUSTODIANS_CHANGED)
    return users


# --- lifecycle ----------------------------------------------------------------------------------


def _set_status(certificate, status, *, actor, reason, action, data, suspended_by="") -> Certificate:
    certificate.status = status
    certificate.status_reason = reason[:500]
    certificate.suspended_by = suspended_by
    certificate.status_changed_at = _now()
    certificate.save(update_fields=["status", "status_reason", "suspended_by", "status_changed_at"])
    audit_event_record(
        action=action, actor=actor, organization=certificate.organization, target=certificate, data=data
    )
    kinds = {
        Certificate.Status.SUSPENDED: Notification.Kind.CERTIFICATE_SUSPENDED,
        Certificate.Status.REVOKED: Notification.Kind.CERTIFICATE_REVOKED,
        Certificate.Status.ACTIVE: Notification.Kind.CERTIFICATE_REINSTATED,
        Certificate.Status.EXPIRED: Notification.Kind.CERTIFICATE_EXPIRED,
    }
    _tell_managers(certificate, kinds[status])
    return certificate


def _locked(certificate: Certificate) -> Certificate:
    return Certificate.objects.select_for_update().select_related("organization").get(pk=certificate.pk)


def _actor_side(actor: User | None, certificate: Certificate) -> str:
    if actor is None:
        return Certificate.SuspendedBy.SYSTEM
    if actor.is_officer:
        return Certificate.SuspendedBy.OFFICER
    _require_manager_of(actor, certificate.organization_id)
    return Certificate.SuspendedBy.OWNER


@transaction.atomic
def certificate_suspend(*, certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    """Stop an active certificate from signing: by its enterprise's owner or an administrator, an
    officer, or the system (``actor=None``: a misuse report, a high-severity flag)."""
    side = _actor_side(actor, certificate)
    certificate = _locked(certificate)
    if certificate.status != Certificate.Status.ACTIVE:
        raise ApplicationError(gettext("Only an active certificate can be suspended."), code="invalid_status")
    return _set_status(
        certificate,
        Certificate.Status.SUSPENDED,
        actor=actor,
        reason=reason,
        action=Action.CERTIFICATE_SUSPENDED,
        data={"by": side},
        suspended_by=side,
    )


@transaction.atomic
def certificate_reinstate(*, certificate: Certificate, actor: User) -> Certificate:
    """Lift a suspension: an officer always; the enterprise only its own suspensions."""
    side = _actor_side(actor, certificate)
    certificate = _locked(certificate)
    if certificate.status != Certificate.Status.SUSPENDED:
        raise ApplicationError(gettext("This certificate is not suspended."), code="invalid_status")
    if side != Certificate.SuspendedBy.OFFICER and certificate.suspended_by != Certificate.SuspendedBy.OWNER:
        raise ApplicationError(
            gettext("Customs suspended this certificate; only customs can reinstate it."),
            code="not_allowed",
            status_code=403,
        )
    if certificate.not_after <= _now():
        raise ApplicationError(gettext("This certificate has expired."), code="certificate_expired")
    return _set_status(
        certificate,
        Certificate.Status.ACTIVE,
        actor=actor,
        reason="",
        action=Action.CERTIFICATE_REINSTATED,
        data={"by": side},
    )


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """End a binding for good (by the enterprise or an officer). A new binding needs a new upload."""
    side = _actor_side(actor, certificate)
    certificate = _locked(certificate)
    if certificate.status in (Certificate.Status.REVOKED, Certificate.Status.EXPIRED):
        raise ApplicationError(gettext("This certificate is no longer in use."), code="invalid_status")
    return _set_status(
        certificate,
        Certificate.Status.REVOKED,
        actor=actor,
        reason=reason,
        action=Action.CERTIFICATE_REVOKED,
        data={"by": side},
    )


def certificates_expire(*, now: datetime.datetime | None = None) -> int:
    """Daily: every certificate past its validity becomes ``expired``. Idempotent."""
    now = now or _now()
    expired = 0
    due = Certificate.objects.filter(
        not_after__lte=now,
        status__in=[
            Certificate.Status.PENDING_PROOF,
            Certificate.Status.ACTIVE,
            Certificate.Status.SUSPENDED,
        ],
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            certificate = Certificate.objects.select_for_update().select_related("organization").get(pk=pk)
            if certificate.status in (Certificate.Status.REVOKED, Certificate.Status.EXPIRED):
                continue
            _set_status(
                certificate,
                Certificate.Status.EXPIRED,
                actor=None,
                reason=gettext("The certificate's validity ended."),
                action=Action.CERTIFICATE_EXPIRED,
                data={"not_after": certificate.not_after.isoformat()},
            )
            expired += 1
    return expired


EXPIRY_REMINDER_DAYS = (30, 7, 1)


def certificates_remind_expiry(*, now: datetime.datetime | None = None) -> int:
    """Daily: 30, 7 and 1 days before a certificate ends, tell its enterprise's managers and its
    custodians, once per step (a missed day still sends the step due)."""
    now = now or _now()
    sent = 0
    # Nearest step first: a certificate whose earlier steps were missed gets only the one due now.
    for days in sorted(EXPIRY_REMINDER_DAYS):
        due = Certificate.objects.filter(
            status=Certificate.Status.ACTIVE,
            not_after__gt=now,
            not_after__lte=now + datetime.timedelta(days=days),
        ).exclude(expiry_reminded_days__lte=days)
        for pk in list(due.values_list("pk", flat=True)):
            with transaction.atomic():
                claimed = (
                    Certificate.objects.filter(pk=pk)
                    .exclude(expiry_reminded_days__lte=days)
                    .update(expiry_reminded_days=days)
                )
                if not claimed:
                    continue
                certificate = Certificate.objects.select_related("organization").get(pk=pk)
                people = {
                    *User.objects.filter(
                        organization=certificate.organization, role__in=User.MANAGER_ROLES, is_active=True
                    ),
                    *certificate.custodians.filter(is_active=True),
                }
                for person in people:
                    notification_send(
                        user=person,
                        kind=Notification.Kind.CERTIFICATE_EXPIRING,
                        certificate=certificate.subject[:200],
                        date=f"{certificate.not_after:%Y-%m-%d}",
                    )
                sent += 1
    return sent


# --- misuse reports -------------------------------------------------------------------------------


@transaction.atomic
def abuse_report(
    *,
    reporter: User,
    description: str,
    reported_user: User | None = None,
    certificates: list[Certificate] | None = None,
    related_flags: list[Flag] = (),
) -> AbuseReport:
    """ "My signature or account was misused" (any member of the enterprise). Suspends the chosen
    certificates (every active one by default), ends the reported account's sessions and forces its
    password change, opens a high-severity ``abuse_report`` flag and a case for officers with it
    (and ``related_flags``, such as those of a sign-in disowned as "not me" that are in no open
    case yet), and tells every officer."""
    organization = reporter.organization
    if organization is None:
        raise ApplicationError(
            gettext("Only members of an enterprise can report misuse."), code="not_allowed"
        )
    if reported_user is not None and reported_user.organization_id != organization.pk:
        raise ApplicationError(
            gettext("No such person in your enterprise."), code="not_found", status_code=404
        )
    active = Certificate.objects.filter(organization=organization, status=Certificate.Status.ACTIVE)
    if certificates is None:
        chosen = list(active)
    else:
        chosen = list(active.filter(pk__in=[c.pk for c in certificates]))
        if len(chosen) != len({c.pk for c in certificates}):
            raise ApplicationError(gettext("No such active certificate."), code="not_found", status_code=404)
    report = AbuseReport.objects.create(
        organization=organization,
        reporter=reporter,
        reported_user=reported_user,
        description=description[:4000],
    )
    report.certificates.set(chosen)
    for certificate in chosen:
        _set_status(
            _locked(certificate),
            Certificate.Status.SUSPENDED,
            actor=None,
            reason=gettext("Suspended after a misuse report."),
            action=Action.CERTIFICATE_SUSPENDED,
            data={"by": "system", "abuse_report": str(report.pk)},
            suspended_by=Certificate.SuspendedBy.SYSTEM,
        )
    if reported_user is not None:
        User.objects.filter(pk=reported_user.pk).update(must_change_password=True)
        sessions_end_all(user=reported_user)
    flag, _created = flag_raise(
        kind="abuse_report",
        severity=Flag.Severity.HIGH,
        user=reported_user or reporter,
        organization=organization,
        explanation="A member of the enterprise reported that its signature or an account was misused.",
        evidence={
            "report": str(report.pk),
            "certificates": [c.fingerprint_sha256 for c in chosen],
            "reporter": str(reporter.pk),
        },
    )
    report.flag = flag
    report.save(update_fields=["flag"])
    # A misuse report is a case for officers from the start, not only a flag in their queue.
    free = [f for f in [flag, *related_flags] if not f.cases.filter(status=Case.Status.OPEN).exists()]
    if flag in free:
        title = gettext("Misuse reported by %(organization)s") % {"organization": organization.name}
        case_open(flags=free, actor=None, title=title)
    audit_event_record(
        action=Action.ABUSE_REPORTED,
        actor=reporter,
        organization=organization,
        target=report,
        data={
            "reported_user": str(reported_user.pk) if reported_user else None,
            "certificates": [str(c.pk) for c in chosen],
        },
    )
    for officer in User.objects.filter(role=User.Role.OFFICER, is_active=True):
        notification_send(user=officer, kind=Notification.Kind.ABUSE_REPORTED, organization=organization.name)
    return report


# --- declaration signing (DESIGN §5 rules 1, 2, 3, 7, 9) ------------------------------------------

MAX_DOCUMENT_BYTES = 1024 * 1024


class SigningRefused(Exception):
    """One rule refused the attempt; ``code`` is the stable rejection code of DESIGN §6."""

    def __init__(self, code: str, message: str, status_code: int = 422):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code


# Path validation is the expensive part of the hot path: its verdict for one certificate only
# changes with the issuer's status, a new CRL or the date, so it is kept per (certificate, issuer
# state, CRL, day) in each process.
_chain_verdicts: dict[tuple, str | None] = {}


def _chain_verdict(certificate: Certificate, crl_id: int | None) -> str | None:
    issuer = certificate.issuer
    now = _now()
    cache_key = (certificate.pk, issuer.pk, issuer.status, crl_id, now.date())
    if cache_key in _chain_verdicts:
        return _chain_verdicts[cache_key]
    verdict = None
    if issuer.status != TrustedIssuer.Status.ACTIVE:
        verdict = "certificate_untrusted"
    else:
        # The DER columns are left out of the hot query; only a cache miss reads them.
        cert = x509.load_der_x509_certificate(
            bytes(Certificate.objects.values_list("der", flat=True).get(pk=certificate.pk))
        )
        issuer_cert = x509.load_der_x509_certificate(
            bytes(TrustedIssuer.objects.values_list("der", flat=True).get(pk=issuer.pk))
        )
        crls = {}
        if crl_id is not None:
            crl_der = RevocationList.objects.values_list("der", flat=True).get(pk=crl_id)
            crls = {issuer.fingerprint_sha256: x509.load_der_x509_crl(bytes(crl_der))}
        try:
            # Checked at the certificate's own mid-life: today's date is compared separately, and
            # a verdict must not depend on the day it was cached.
            pki.validate_signing_certificate(
                cert, [issuer_cert], crls, _now() if _now() < certificate.not_after else certificate.not_after
            )
        except pki.CertificateError as error:
            verdict = error.code
    if len(_chain_verdicts) > 10_000:
        _chain_verdicts.clear()
    _chain_verdicts[cache_key] = verdict
    return verdict


def declaration_sign(
    *,
    actor: User,
    number: str,
    kind: str,
    trader_tax_code: str,
    representation: str,
    document: bytes,
    signature: bytes,
    channel: str = "api",
) -> SignatureRecord:
    """The only place the signing rules are applied (the API and the portal both call it).

    Every attempt becomes a ``SignatureRecord`` with its outcome and an audit event
    (``declaration.signed`` or ``declaration.rejected``) in one transaction; a refusal is returned,
    not raised, because it is evidence that must be kept. Rejection codes: ``invalid_input``,
    ``invalid_tax_code``, ``trader_not_found``, ``document_too_large``, the CMS codes
    (``signature_malformed``, ``signature_invalid``, ``signature_digest_mismatch``,
    ``signature_algorithm_unsupported``, ``signature_time_outside_validity``),
    ``certificate_foreign_use`` (a certificate bound to another organisation: high flag),
    ``certificate_not_bound``, ``certificate_suspended``, ``certificate_revoked``,
    ``certificate_expired``, ``certificate_untrusted``, ``signer_role_not_allowed`` (owners and
    administrators do not sign), ``signer_not_custodian``, ``organization_not_verified``,
    ``broker_licence_inactive``, ``agent_not_current``, ``no_active_authorization``,
    ``authorization_scope``, ``duplicate_declaration`` (409)."""
    document_sha256 = hashlib.sha256(document).hexdigest()
    attempt = SignatureRecord(
        declaration_number=number[:32],
        declaration_kind=kind[:16],
        trader_tax_code=trader_tax_code[:20],
        signer=actor,
        signer_organization_id=actor.organization_id,
        representation=representation[:8],
        signature=signature[: 1024 * 1024],
        document_sha256=document_sha256,
        channel=channel,
    )
    try:
        with transaction.atomic():
            try:
                declaration = _apply_rules(attempt, actor, document, signature)
            except SigningRefused as refusal:
                return _refused(attempt, actor, refusal)
            _accepted(attempt, actor, declaration)
    except _DuplicateDeclaration:
        refusal = SigningRefused(
            "duplicate_declaration", gettext("This trader already has a declaration with this number."), 409
        )
        with transaction.atomic():
            return _refused(attempt, actor, refusal)
    return attempt


class _DuplicateDeclaration(Exception):
    pass


def _refused(attempt: SignatureRecord, actor: User, refusal: SigningRefused) -> SignatureRecord:
    attempt.outcome = SignatureRecord.Outcome.REJECTED
    attempt.reason_code = refusal.code
    attempt.refusal = refusal
    _insert_record(attempt)
    audit_event_record(
        action=Action.DECLARATION_REJECTED,
        actor=actor,
        organization=attempt.trader or actor.organization,
        target=attempt,
        data=_record_data(attempt),
    )
    return attempt


def _accepted(attempt: SignatureRecord, actor: User, declaration: Declaration) -> None:
    attempt.declaration = declaration
    attempt.outcome = SignatureRecord.Outcome.ACCEPTED
    _insert_record(attempt)
    attempt.refusal = None
    audit_event_record(
        action=Action.DECLARATION_SIGNED,
        actor=actor,
        organization=attempt.trader,
        target=attempt,
        data=_record_data(attempt),
    )
    from signatures.tasks import declarations_notice_task

    # Traders are told by a sweep every few seconds rather than by a message per signature:
    # the signing path publishes nothing. Where no beat runs (eager mode) it runs at commit.
    run_on_commit_without_beat(declarations_notice_task)


def _record_data(record: SignatureRecord) -> dict:
    return {
        "number": record.declaration_number,
        "kind": record.declaration_kind,
        "trader": record.trader_tax_code,
        "signer_organization": str(record.signer_organization_id),
        "agent_number": record.agent_number,
        "certificate": record.certificate_fingerprint,
        "authorization": str(record.authorization_id) if record.authorization_id else None,
        "document_sha256": record.document_sha256,
        "outcome": record.outcome,
        "reason": record.reason_code,
    }


# The hot path's inserts and lookups, compiled once per process (core.prepared): the certificate presented
# with its issuer, organisation, the signer's custodianship and the issuer's current CRL, the DER
# blobs left in the database unless the chain must be rebuilt; the trader; the mandates.
_insert_declaration = PreparedInsert(Declaration)
_insert_record = PreparedInsert(SignatureRecord)
_certificates_presented = PreparedQuery(
    lambda fingerprint, signer_id: (
        Certificate.objects.select_related("issuer", "organization")
        .defer("der", "issuer__der")
        .filter(fingerprint_sha256=fingerprint)
        .exclude(status=Certificate.Status.PENDING_PROOF)
        .annotate(
            signer_is_custodian=Exists(
                CertificateCustodian.objects.filter(certificate=OuterRef("pk"), user_id=signer_id)
            ),
            current_crl_id=Subquery(
                RevocationList.objects.filter(issuer_id=OuterRef("issuer_id"))
                .order_by("-this_update", "-pk")
                .values("pk")[:1]
            ),
        )
    ),
    fingerprint=str,
    signer_id=int,
)
_trader_by_tax_code = PreparedQuery(
    lambda tax_code: Organization.objects.filter(tax_code=tax_code, kind=Organization.Kind.TRADER),
    tax_code=str,
)
_active_mandates = PreparedQuery(
    lambda trader_id, broker_id: Authorization.objects.filter(
        trader_id=trader_id, broker_id=broker_id, status=Authorization.Status.ACTIVE
    ),
    trader_id=int,
    broker_id=int,
)


def _agent_of(actor: User, broker: Organization) -> AgentStaff | None:
    try:
        agent = actor.agent_profile
    except AgentStaff.DoesNotExist:
        return None
    return agent if agent.licence.organization_id == broker.pk else None


def _apply_rules(attempt: SignatureRecord, actor: User, document: bytes, signature: bytes) -> Declaration:
    if attempt.declaration_kind not in Declaration.Kind.values or not attempt.declaration_number.strip():
        raise SigningRefused("invalid_input", gettext("Give the declaration's number and kind."), 400)
    if len(document) > MAX_DOCUMENT_BYTES:
        raise SigningRefused("document_too_large", gettext("The document is too large."), 413)
    try:
        tax_code = normalize_tax_code(attempt.trader_tax_code)
    except ValidationError:
        raise SigningRefused("invalid_tax_code", gettext("This is not a valid tax code."), 400) from None
    trader = next(iter(_trader_by_tax_code(tax_code=tax_code)), None)
    if trader is None:
        raise SigningRefused(
            "trader_not_found", gettext("No enterprise with this tax code is registered."), 404
        )
    attempt.trader = trader
    try:
        verified = verify_detached(signature, document)
    except SignatureError as error:
        raise SigningRefused(error.code, error.message) from None
    fingerprint = pki.fingerprint_sha256(verified.signer_certificate)
    attempt.certificate_fingerprint = fingerprint
    bound = _certificates_presented(fingerprint=fingerprint, signer_id=actor.pk)
    own = next((c for c in bound if c.organization_id == actor.organization_id), None)
    foreign = [c for c in bound if c.organization_id != actor.organization_id]
    if foreign:
        # Rule 2: a certificate bound to someone else, presented by this organisation.
        flag_raise(
            kind="certificate_foreign_use",
            severity=Flag.Severity.HIGH,
            user=actor,
            organization=foreign[0].organization,
            explanation="A certificate bound to this organisation was used to sign by another organisation.",
            evidence={
                "fingerprint": fingerprint,
                "used_by": str(actor.organization_id),
                "declaration": attempt.declaration_number,
                "trader": trader.tax_code,
            },
        )
        if len({c.organization_id for c in bound}) > 1:
            holders = sorted({str(c.organization_id) for c in bound})
            flag_raise(
                kind="certificate_shared",
                severity=Flag.Severity.HIGH,
                organization=foreign[0].organization,
                explanation="One certificate is bound to several organisations.",
                evidence={"fingerprint": fingerprint, "organizations": holders},
            )
        raise SigningRefused(
            "certificate_foreign_use", gettext("This certificate belongs to another organisation."), 403
        )
    if own is None:
        raise SigningRefused(
            "certificate_not_bound", gettext("This certificate is not bound to your organisation.")
        )
    attempt.certificate = own
    status_codes = {
        Certificate.Status.SUSPENDED: "certificate_suspended",
        Certificate.Status.REVOKED: "certificate_revoked",
        Certificate.Status.EXPIRED: "certificate_expired",
    }
    if own.status in status_codes:
        raise SigningRefused(status_codes[own.status], gettext("This certificate cannot sign now."))
    now = _now()
    if not own.not_before <= now <= own.not_after:
        raise SigningRefused("certificate_expired", gettext("This certificate is not within its validity."))
    verdict = _chain_verdict(own, own.current_crl_id)
    if verdict is not None:
        raise SigningRefused(
            verdict, gettext("This certificate does not pass its checks: %(code)s.") % {"code": verdict}
        )
    if actor.role in User.MANAGER_ROLES:
        raise SigningRefused(
            "signer_role_not_allowed", gettext("Owners and administrators manage; they do not sign."), 403
        )
    if not own.signer_is_custodian:
        raise SigningRefused(
            "signer_not_custodian", gettext("You are not a custodian of this certificate."), 403
        )
    signer_organization = attempt.signer_organization = own.organization
    today = timezone.localdate(now)
    if signer_organization.pk != trader.pk:
        # API-key authentication has already loaded the signer's agent record with its licence.
        agent = _agent_of(actor, signer_organization)
        licence = (
            agent.licence if agent else BrokerLicence.objects.filter(organization=signer_organization).first()
        )
        if (
            not signer_organization.is_broker
            or licence is None
            or licence.status != BrokerLicence.Status.ACTIVE
        ):
            raise SigningRefused(
                "broker_licence_inactive",
                gettext("Only a broker with an active licence signs for a trader."),
                403,
            )
        if not agent_is_current(agent, today):
            raise SigningRefused(
                "agent_not_current", gettext("You are not a current customs agent of this broker."), 403
            )
        attempt.agent, attempt.agent_number = agent, agent.agent_number
        mandates = [
            mandate
            for mandate in _active_mandates(trader_id=trader.pk, broker_id=signer_organization.pk)
            if mandate.valid_from <= today <= mandate.valid_until
        ]
        if not mandates:
            raise SigningRefused(
                "no_active_authorization", gettext("No active mandate from this trader."), 403
            )
        covering = next((m for m in mandates if m.covers(attempt.declaration_kind, today)), None)
        if covering is None:
            raise SigningRefused(
                "authorization_scope", gettext("The mandate does not cover this kind of declaration."), 403
            )
        attempt.authorization = covering
        attempt.representation = covering.representation
    elif trader.status != Organization.Status.ACTIVE:
        raise SigningRefused("organization_not_verified", gettext("The enterprise is not verified yet."), 403)
    # No savepoint around the insert: a duplicate number aborts the attempt's whole transaction, and
    # declaration_sign records the refusal in a fresh one.
    try:
        return _insert_declaration(
            Declaration(
                trader=trader,
                number=attempt.declaration_number,
                kind=attempt.declaration_kind,
                representation=attempt.representation,
                document=document,
                document_sha256=attempt.document_sha256,
            )
        )
    except IntegrityError:
        raise _DuplicateDeclaration from None


NOTICE_BATCH = 500
DIGEST_NUMBERS_SHOWN = 20


def _claim_unnoticed(**conditions) -> list[SignatureRecord]:
    """Accepted signatures not yet told to their trader, locked so that two workers never tell twice
    (``skip_locked``: a concurrent sweep takes the next ones instead of waiting)."""
    return list(
        SignatureRecord.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("trader", "signer_organization")
        .filter(outcome=SignatureRecord.Outcome.ACCEPTED, noticed_at__isnull=True, **conditions)
        .order_by("created_at", "pk")[:NOTICE_BATCH]
    )


def _managers_by_organization(organization_ids) -> dict[int, list[User]]:
    managers: dict[int, list[User]] = {}
    for user in User.objects.filter(
        organization_id__in=set(organization_ids), role__in=User.MANAGER_ROLES, is_active=True
    ).order_by("pk"):
        managers.setdefault(user.organization_id, []).append(user)
    return managers


def declarations_notice(*, now: datetime.datetime | None = None) -> int:
    """Tell each trader that wants it of every signature made in its name (DESIGN §9): its owner
    and administrators get a notification and an email per signature. Runs every
    ``SIGNATURE_NOTICE_SECONDS`` (and at commit where no beat runs); returns the records told."""
    now = now or _now()
    with transaction.atomic():
        records = _claim_unnoticed(trader__signature_notice=Organization.SignatureNotice.EACH)
        if not records:
            return 0
        SignatureRecord.objects.filter(pk__in=[record.pk for record in records]).update(noticed_at=now)
        managers = _managers_by_organization(record.trader_id for record in records)
        for record in records:
            for manager in managers.get(record.trader_id, []):
                notification_send(
                    user=manager,
                    kind=Notification.Kind.DECLARATION_SIGNED,
                    number=record.declaration_number,
                    signer=record.signer_organization.name,
                    agent=record.agent_number or "—",
                )
    return len(records)


def declarations_digest(*, now: datetime.datetime | None = None) -> int:
    """The daily digest for traders that prefer one: from ``SIGNATURE_DIGEST_HOUR`` (local time)
    on, one notification per earlier day with signatures not yet told, listing their numbers.
    Idempotent (the records are marked told), so it runs hourly. Returns the records told."""
    now = now or _now()
    local_now = timezone.localtime(now)
    if local_now.hour < settings.SIGNATURE_DIGEST_HOUR:
        return 0
    today_starts = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    told = 0
    while True:
        with transaction.atomic():
            records = _claim_unnoticed(
                trader__signature_notice=Organization.SignatureNotice.DAILY, created_at__lt=today_starts
            )
            if not records:
                return told
            SignatureRecord.objects.filter(pk__in=[record.pk for record in records]).update(noticed_at=now)
            days: dict[tuple[int, datetime.date], list[str]] = {}
            for record in records:
                day = timezone.localdate(record.created_at)
                days.setdefault((record.trader_id, day), []).append(record.declaration_number)
            managers = _managers_by_organization(trader_id for trader_id, _day in days)
            for (trader_id, day), numbers in days.items():
                shown = ", ".join(numbers[:DIGEST_NUMBERS_SHOWN]) + (
                    "…" if len(numbers) > DIGEST_NUMBERS_SHOWN else ""
                )
                for manager in managers.get(trader_id, []):
                    notification_send(
                        user=manager,
                        kind=Notification.Kind.DECLARATION_DIGEST,
                        count=len(numbers),
                        date=day.isoformat(),
                        numbers=shown,
                    )
            told += len(records)


# --- compliance classification ----------------------------------------------------------------------


def _apply_level(organization: Organization, *, source: str, actor: User | None, reason: str = "") -> None:
    """Set the effective level (an officer's override wins over the computed one) and record
    ``organization.classified`` when it changed, or always for an officer's decision."""
    from signatures.policies import Level

    level = (
        organization.compliance_override_level or organization.compliance_computed_level or Level.UNCLASSIFIED
    )
    previous = organization.compliance_level
    organization.compliance_level = level
    if level != previous or actor is not None:
        audit_event_record(
            action=Action.ORGANIZATION_CLASSIFIED,
            actor=actor,
            organization=organization,
            target=organization,
            data={
                "level": level,
                "previous": previous,
                "computed": organization.compliance_computed_level,
                "source": source,
                "signals": [signal["code"] for signal in organization.compliance_reasons],
                "reason": reason[:500],
            },
        )


@transaction.atomic
def compliance_classify(*, organization: Organization, now: datetime.datetime | None = None) -> Organization:
    """Recompute one enterprise's level from its signals over ``COMPLIANCE_WINDOW_DAYS`` (confirmed
    misuse cases, misuse reports, non-cooperation, missed broker reports, certificate lending,
    account sharing) and keep the reasons. An officer's override stays in force; the computed level
    is kept beside it. Records ``organization.classified`` when the effective level changes."""
    from signatures.policies import Signals, classify
    from signatures.selectors import compliance_signals

    now = now or _now()
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    since = now - datetime.timedelta(days=settings.COMPLIANCE_WINDOW_DAYS)
    counts = compliance_signals(organization_ids=[organization.pk], since=since)[organization.pk]
    signals = Signals(non_cooperation=int(organization.non_cooperation), **counts)
    level, reasons = classify(signals, verified_at=organization.verified_at, now=now)
    organization.compliance_computed_level = level
    organization.compliance_reasons = reasons
    organization.compliance_classified_at = now
    _apply_level(organization, source="computed", actor=None)
    organization.save(
        update_fields=[
            "compliance_level", "compliance_computed_level", "compliance_reasons", "compliance_classified_at",
            "updated_at",
        ]
    )  # fmt: skip
    return organization


def compliance_classify_all(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Nightly: classify every enterprise that is not suspended, one short transaction each (an
    error on one does not stop the others; the next night retries it)."""
    now = now or _now()
    done = failed = 0
    ids = Organization.objects.exclude(status=Organization.Status.SUSPENDED).values_list("pk", flat=True)
    for organization in Organization.objects.filter(pk__in=list(ids)).iterator():
        try:
            compliance_classify(organization=organization, now=now)
        except Exception:  # one broken row must not stop the night's run
            logger.exception("compliance classification failed for organisation %s", organization.pk)
            failed += 1
        else:
            done += 1
    return {"classified": done, "failed": failed}


@transaction.atomic
def compliance_override_set(
    *, organization: Organization, level: str, reason: str, actor: User
) -> Organization:
    """An officer sets an enterprise's level by hand, with the reason (it then holds until cleared).
    Records ``organization.classified``. Raises ``ApplicationError``: ``not_allowed`` (an officer
    without the classify right), ``reason_required``, ``level_invalid``."""
    from signatures.policies import Level

    _require_classifier(actor)
    reason = require_reason(reason)
    if level not in Level.values or level == Level.UNCLASSIFIED:
        raise ApplicationError(gettext("Choose a level on the five-level scale."), code="level_invalid")
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    organization.compliance_override_level = level
    organization.compliance_override_reason = reason
    organization.compliance_override_by = actor
    organization.compliance_override_at = _now()
    _apply_level(organization, source="override", actor=actor, reason=reason)
    organization.save(
        update_fields=[
            "compliance_level", "compliance_override_level", "compliance_override_reason",
            "compliance_override_by", "compliance_override_at", "updated_at",
        ]
    )  # fmt: skip
    return organization


def _require_classifier(actor: User | None) -> None:
    if actor is None or not actor.is_officer or not actor.has_perm("audit.classify_enterprise"):
        raise ApplicationError(
            gettext("Only an officer who classifies enterprises can do this."),
            code="not_allowed",
            status_code=403,
        )


@transaction.atomic
def compliance_override_clear(*, organization: Organization, reason: str, actor: User) -> Organization:
    """Drop an officer's level: the computed one applies again. Same rights and errors as setting it."""
    _require_classifier(actor)
    reason = require_reason(reason)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if not organization.compliance_override_level:
        raise ApplicationError(gettext("No level was set by an officer."), code="invalid_transition")
    organization.compliance_override_level = ""
    organization.compliance_override_reason = ""
    organization.compliance_override_by = None
    organization.compliance_override_at = None
    _apply_level(organization, source="override_cleared", actor=actor, reason=reason)
    organization.save(
        update_fields=[
            "compliance_level", "compliance_override_level", "compliance_override_reason",
            "compliance_override_by", "compliance_override_at", "updated_at",
        ]
    )  # fmt: skip
    return organization
