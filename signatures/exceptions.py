"""The signatures app's refusals, each carrying the stable code of the check that failed (DESIGN §6)."""

from __future__ import annotations

from core.errors import ApplicationError


class CertificateRefused(ApplicationError):
    """A trusted issuer, revocation list or certificate binding was refused; the audit trail keeps
    the attempt."""

    code = "certificate_refused"


class SigningRefused(Exception):
    """One signing rule refused the attempt; ``code`` is the stable rejection code of DESIGN §6.
    Not an ``ApplicationError``: a refusal is recorded and returned with its record, never raised
    to the caller."""

    def __init__(self, code: str, message: str, status_code: int = 422):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
