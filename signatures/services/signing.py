"""Declaration signing (DESIGN §5 rules 1, 2, 3, 7, 9): the only place the signing rules are applied.

``declaration_sign`` runs the rules as named checks, in a fixed order: the input, the trader, the
CMS signature, the certificate, the signer, the enterprise's own standing or the broker's licence,
agent and mandate. The first check that fails raises ``SigningRefused`` with its code; a check that
passes fills in what it learnt (the trader, the certificate, the mandate) on the attempt's record.
"""

from __future__ import annotations

import datetime
import hashlib

from cryptography import x509
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Organization, User
from accounts.validators import normalize_tax_code
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from audit.services.flags import flag_raise
from brokers.models import AgentStaff, BrokerLicence
from brokers.services.agents import agent_is_current
from core.tasks import run_on_commit_without_beat
from core.text import invisible_characters
from signatures import pki, queries
from signatures.cms import MAX_CMS_BYTES, SignatureError, verify_detached
from signatures.exceptions import SigningRefused
from signatures.models import (
    Certificate,
    Declaration,
    RevocationList,
    SignatureRecord,
    TrustedIssuer,
)
from signatures.refusals import refusal_sentence
from signatures.tasks import declarations_notice_task

MAX_DOCUMENT_BYTES = 1024 * 1024

_CODE_OF_STATUS = {
    Certificate.Status.SUSPENDED: "certificate_suspended",
    Certificate.Status.REVOKED: "certificate_revoked",
    Certificate.Status.EXPIRED: "certificate_expired",
}


def _now() -> datetime.datetime:
    return timezone.now()


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
    ``authorization_scope``, ``duplicate_declaration`` (409), ``signature_too_large`` (413)."""
    document_sha256 = hashlib.sha256(document).hexdigest()
    attempt = SignatureRecord(
        declaration_number=number[:32],
        declaration_kind=kind[:16],
        trader_tax_code=trader_tax_code[:20],
        signer=actor,
        signer_organization_id=actor.organization_id,
        representation=representation[:8],
        # One larger than any signature accepted is refused (signature_too_large) and kept only by
        # its digest and size, so that refusals cannot fill the database.
        signature=signature if len(signature) <= MAX_CMS_BYTES else b"",
        signature_sha256=hashlib.sha256(signature).hexdigest(),
        signature_size=len(signature),
        document_sha256=document_sha256,
        channel=channel,
    )
    try:
        with transaction.atomic():
            try:
                _apply_rules(attempt, actor, document, signature)
            except SigningRefused as refusal:
                return _refused(attempt, actor, refusal)
            _accepted(attempt, actor, _declaration_insert(attempt, document))
    except _DuplicateDeclaration:
        refusal = SigningRefused(
            "duplicate_declaration", gettext("This trader already has a declaration with this number."), 409
        )
        with transaction.atomic():
            return _refused(attempt, actor, refusal)
    return attempt


def _apply_rules(attempt: SignatureRecord, actor: User, document: bytes, signature: bytes) -> None:
    """The checks in the order their codes are documented: the first to fail decides the refusal.
    The last two are exclusive: a trader's own staff, or a broker signing in the trader's name."""
    now = _now()
    tax_code = check_input(attempt, document)
    check_trader(attempt, tax_code)
    fingerprint = check_cms(attempt, document, signature)
    certificate = check_certificate(attempt, actor, fingerprint, now)
    check_signer(attempt, actor, certificate)
    check_own_enterprise(attempt)
    check_broker_mandate(attempt, actor, timezone.localdate(now))


class _DuplicateDeclaration(Exception):
    pass


def _declaration_insert(attempt: SignatureRecord, document: bytes) -> Declaration:
    # No savepoint around the insert: a duplicate number aborts the attempt's whole transaction, and
    # declaration_sign records the refusal in a fresh one.
    try:
        return Declaration.objects.create(
            trader=attempt.trader,
            number=attempt.declaration_number,
            kind=attempt.declaration_kind,
            representation=attempt.representation,
            document=document,
            document_sha256=attempt.document_sha256,
        )
    except IntegrityError:
        raise _DuplicateDeclaration from None


def _refused(attempt: SignatureRecord, actor: User, refusal: SigningRefused) -> SignatureRecord:
    attempt.outcome = SignatureRecord.Outcome.REJECTED
    attempt.reason_code = refusal.code
    attempt.refusal = refusal
    attempt.save(force_insert=True)
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
    attempt.save(force_insert=True)
    attempt.refusal = None
    audit_event_record(
        action=Action.DECLARATION_SIGNED,
        actor=actor,
        organization=attempt.trader,
        target=attempt,
        data=_record_data(attempt),
    )
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
        "signature_sha256": record.signature_sha256,
        "outcome": record.outcome,
        "reason": record.reason_code,
    }


# --- the rules, in the order they are applied --------------------------------------------------


def check_input(attempt: SignatureRecord, document: bytes) -> str:
    """The declaration's number and kind, the document's size and the trader's tax code, which is
    returned normalised."""
    if attempt.declaration_kind not in Declaration.Kind.values or not attempt.declaration_number.strip():
        raise SigningRefused("invalid_input", gettext("Give the declaration's number and kind."), 400)
    if invisible_characters(attempt.declaration_number):
        raise SigningRefused(
            "invalid_input", gettext("A declaration number holds no invisible or control characters."), 400
        )
    if len(document) > MAX_DOCUMENT_BYTES:
        raise SigningRefused("document_too_large", gettext("The document is too large."), 413)
    if attempt.signature_size > MAX_CMS_BYTES:
        raise _signature_too_large()
    try:
        return normalize_tax_code(attempt.trader_tax_code)
    except ValidationError:
        raise SigningRefused("invalid_tax_code", gettext("This is not a valid tax code."), 400) from None


def _signature_too_large() -> SigningRefused:
    return SigningRefused(
        "signature_too_large",
        gettext("The signature is larger than %(size)d KiB.") % {"size": MAX_CMS_BYTES // 1024},
        413,
    )


def check_trader(attempt: SignatureRecord, tax_code: str) -> None:
    """A registered trader has this tax code; it becomes the attempt's trader."""
    trader = queries.trader_by_tax_code(tax_code)
    if trader is None:
        raise SigningRefused(
            "trader_not_found", gettext("No enterprise with this tax code is registered."), 404
        )
    attempt.trader = trader


def check_cms(attempt: SignatureRecord, document: bytes, signature: bytes) -> str:
    """The detached CMS signature verifies over the document; returns the fingerprint of the
    certificate that made it."""
    try:
        verified = verify_detached(signature, document)
    except SignatureError as error:
        raise SigningRefused(error.code, refusal_sentence(error.code)) from None
    fingerprint = pki.fingerprint_sha256(verified.signer_certificate)
    attempt.certificate_fingerprint = fingerprint
    return fingerprint


def check_certificate(
    attempt: SignatureRecord, actor: User, fingerprint: str, now: datetime.datetime
) -> Certificate:
    """Rules 2 and 3: the certificate is bound to the signer's own organisation (one bound
    elsewhere is flagged for officers), may sign now, is within its validity and passes its chain
    and revocation checks. It becomes the attempt's certificate."""
    bound = queries.certificates_presented(fingerprint, actor.pk)
    own = next((c for c in bound if c.organization_id == actor.organization_id), None)
    foreign = [c for c in bound if c.organization_id != actor.organization_id]
    if foreign:
        _flag_foreign_use(attempt, actor, fingerprint, bound, foreign[0].organization)
        raise SigningRefused(
            "certificate_foreign_use", gettext("This certificate belongs to another organisation."), 403
        )
    if own is None:
        raise SigningRefused(
            "certificate_not_bound", gettext("This certificate is not bound to your organisation.")
        )
    attempt.certificate = own
    if own.status in _CODE_OF_STATUS:
        raise SigningRefused(_CODE_OF_STATUS[own.status], gettext("This certificate cannot sign now."))
    if not own.not_before <= now <= own.not_after:
        raise SigningRefused("certificate_expired", gettext("This certificate is not within its validity."))
    verdict = _chain_verdict(own, own.current_crl_id)
    if verdict is not None:
        raise SigningRefused(verdict, refusal_sentence(verdict))
    return own


def check_signer(attempt: SignatureRecord, actor: User, certificate: Certificate) -> None:
    """Rule 1: owners and administrators manage, they do not sign; the signer is one of the
    certificate's custodians. The certificate's organisation is the signer's."""
    if actor.role in User.MANAGER_ROLES:
        raise SigningRefused(
            "signer_role_not_allowed", gettext("Owners and administrators manage; they do not sign."), 403
        )
    if not certificate.signer_is_custodian:
        raise SigningRefused(
            "signer_not_custodian", gettext("You are not a custodian of this certificate."), 403
        )
    # check_certificate keeps only a certificate bound to the signer's own organisation.
    attempt.signer_organization = actor.organization


def check_own_enterprise(attempt: SignatureRecord) -> None:
    """A trader's own staff sign only once the enterprise is verified."""
    trader = attempt.trader
    if attempt.signer_organization_id == trader.pk and trader.status != Organization.Status.ACTIVE:
        raise SigningRefused("organization_not_verified", gettext("The enterprise is not verified yet."), 403)


def check_broker_mandate(attempt: SignatureRecord, actor: User, today: datetime.date) -> None:
    """Rules 7 and 9, for a signature in another party's name: the signer's organisation is a broker
    with an active licence, the signer its current customs agent, and the trader's active mandate
    covers this kind of declaration today. The agent and the mandate (with its representation)
    become the attempt's."""
    broker_id = attempt.signer_organization_id
    if broker_id == attempt.trader_id:
        return
    # API-key authentication has already loaded the signer's agent record with its licence.
    agent = _agent_of(actor, broker_id)
    licence = agent.licence if agent else BrokerLicence.objects.filter(organization_id=broker_id).first()
    if not actor.organization.is_broker or licence is None or licence.status != BrokerLicence.Status.ACTIVE:
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
    mandates = queries.mandates_in_force(attempt.trader_id, broker_id, today)
    if not mandates:
        raise SigningRefused("no_active_authorization", gettext("No active mandate from this trader."), 403)
    covering = next((m for m in mandates if m.covers(attempt.declaration_kind, today)), None)
    if covering is None:
        raise SigningRefused(
            "authorization_scope", gettext("The mandate does not cover this kind of declaration."), 403
        )
    attempt.authorization = covering
    attempt.representation = covering.representation


# --- what the checks read ----------------------------------------------------------------------


def _flag_foreign_use(
    attempt: SignatureRecord,
    actor: User,
    fingerprint: str,
    bound: list[Certificate],
    holder: Organization,
) -> None:
    # Rule 2: a certificate bound to someone else, presented by this organisation.
    flag_raise(
        kind="certificate_foreign_use",
        severity=Flag.Severity.HIGH,
        user=actor,
        organization=holder,
        explanation="A certificate bound to this organisation was used to sign by another organisation.",
        evidence={
            "fingerprint": fingerprint,
            "used_by": str(actor.organization_id),
            "declaration": attempt.declaration_number,
            "trader": attempt.trader.tax_code,
        },
    )
    if len({c.organization_id for c in bound}) > 1:
        holders = sorted({str(c.organization_id) for c in bound})
        flag_raise(
            kind="certificate_shared",
            severity=Flag.Severity.HIGH,
            organization=holder,
            explanation="One certificate is bound to several organisations.",
            evidence={"fingerprint": fingerprint, "organizations": holders},
        )


def _agent_of(actor: User, broker_id: int) -> AgentStaff | None:
    try:
        agent = actor.agent_profile
    except AgentStaff.DoesNotExist:
        return None
    return agent if agent.licence.organization_id == broker_id else None


# Path validation is the expensive part of the hot path: its verdict for one certificate only
# changes with the issuer's status, a new CRL or the date, so it is kept per (certificate, issuer
# state, CRL, day) in each process.
_chain_verdicts: dict[tuple, str | None] = {}


def _chain_verdict(certificate: Certificate, crl_id: int | None) -> str | None:
    now = _now()
    cache_key = (certificate.pk, certificate.issuer_id, certificate.issuer_status, crl_id, now.date())
    if cache_key in _chain_verdicts:
        return _chain_verdicts[cache_key]
    verdict = None
    if certificate.issuer_status != TrustedIssuer.Status.ACTIVE:
        verdict = "certificate_untrusted"
    else:
        # The DER columns are left out of the hot query; only a cache miss reads them.
        cert = x509.load_der_x509_certificate(
            bytes(Certificate.objects.values_list("der", flat=True).get(pk=certificate.pk))
        )
        issuer_cert = x509.load_der_x509_certificate(
            bytes(TrustedIssuer.objects.values_list("der", flat=True).get(pk=certificate.issuer_id))
        )
        crls = {}
        if crl_id is not None:
            crl_der = RevocationList.objects.values_list("der", flat=True).get(pk=crl_id)
            crls = {certificate.issuer_fingerprint: x509.load_der_x509_crl(bytes(crl_der))}
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
