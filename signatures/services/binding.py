"""Binding a signing certificate to an enterprise (DESIGN §4, §5 rule 1): upload, proof of
possession, and the custodians who may sign with it.

Every function is one use case. A refusal raises ``CertificateRefused`` (an ``ApplicationError``
with the code of the check that failed) and changes nothing but the audit trail: refused bindings
are evidence, recorded in a transaction of their own.
"""

from __future__ import annotations

import datetime
import secrets

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Notification, Organization, User
from accounts.services.organizations import organization_verify
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from audit.services.flags import flag_raise
from core.errors import ApplicationError
from signatures import pki
from signatures.cms import SignatureError, verify_proof_of_possession
from signatures.exceptions import CertificateRefused
from signatures.models import Certificate, CertificateCustodian, TrustedIssuer
from signatures.refusals import refusal_sentence
from signatures.selectors import current_crls, trusted_issuer_certificates
from signatures.services.lifecycle import certificate_managers_tell, require_manager_of


def _now() -> datetime.datetime:
    return timezone.now()


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
    ``certificate_private_key`` (a key or a .p12 sent instead: refused, never kept),
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
        # First, whatever the file's size: the person must learn that a key was sent. The bytes
        # are dropped with the request; neither they nor anything derived from them is kept.
        if pki.holds_private_key(data):
            raise CertificateRefused(
                gettext(
                    "This file holds a private key. A private key must never leave its owner: do not "
                    "send it to anyone, customs included. We have not kept it. Upload only the "
                    "certificate (a .cer or .crt file). If someone else may have seen the key, ask "
                    "your certification authority to revoke the certificate."
                ),
                code="certificate_private_key",
            )
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
            raise CertificateRefused(refusal_sentence(error.code), code=error.code) from None
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
        raise CertificateRefused(refusal_sentence(error.code), code=error.code) from None
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
    certificate_managers_tell(certificate, Notification.Kind.CERTIFICATE_BOUND)
    return certificate


# --- custodians -----------------------------------------------------------------------------------


@transaction.atomic
def custodians_set(*, certificate: Certificate, users: list[User], actor: User) -> list[User]:
    """Name the signers who may sign with ``certificate`` (rule 1). Only ``signer``-role, active
    members of the certificate's own enterprise qualify (``custodian_invalid``). Records
    ``certificate.custodians_changed`` with who was added and removed, and tells the managers."""
    require_manager_of(actor, certificate.organization_id)
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
    certificate_managers_tell(certificate, Notification.Kind.CUSTODIANS_CHANGED)
    return users
