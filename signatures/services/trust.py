"""Trusted issuers and their revocation lists (DESIGN §7): what officers trust, and the CRLs that
revoke what those issuers signed.

A refusal raises ``CertificateRefused`` (an ``ApplicationError`` with the code of the check that
failed); a refused revocation list is still recorded in the audit trail, in a transaction of its own.
"""

from __future__ import annotations

import datetime
import hashlib
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from accounts.services.permissions import require_officer
from audit.models import Action, Flag
from audit.services.events import audit_event_record
from audit.services.flags import flag_raise
from signatures import pki
from signatures.exceptions import CertificateRefused
from signatures.models import Certificate, RevocationList, TrustedIssuer
from signatures.refusals import refusal_sentence
from signatures.selectors import current_crls
from signatures.services.lifecycle import certificate_status_set


def _now() -> datetime.datetime:
    return timezone.now()


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
        raise CertificateRefused(refusal_sentence(error.code), code=error.code) from None
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
        raise CertificateRefused(refusal_sentence(error.code), code=error.code) from None
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
        certificate_status_set(
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
