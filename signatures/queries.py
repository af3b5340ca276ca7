"""The signing path's lookups, written as SQL (``QuerySet.raw``).

Every signature reads the trader, the presented certificate and the mandates in force. Through the
ORM, building and compiling those querysets cost Django about 1.7 ms a signature, several times
what PostgreSQL needs to answer them; the certificate's, with two joins and two subqueries, alone
1 ms (``bench/sign.py``, and docs/adr/0008-signing-lookups-in-sql.md for the measurement). Here
each is a fixed statement: ``raw`` maps the columns to the model's fields, applies the fields'
converters and keeps the extra columns as attributes. Portable SQL: PostgreSQL, and SQLite for
development.
"""

from __future__ import annotations

import datetime

from accounts.models import Organization
from brokers.models import Authorization
from signatures.models import Certificate

_TRADER = """
    SELECT * FROM accounts_organization
    WHERE tax_code = %s AND kind = %s
"""

# Every binding of one fingerprint but those still waiting for proof, with what the checks read of
# its issuer, whether the signer is a custodian, and the issuer's current CRL.
# The DER blobs stay in the database: only a chain rebuilt after a cache miss reads them.
_PRESENTED = """
    SELECT c.id, c.organization_id, c.issuer_id, c.fingerprint_sha256, c.serial_number, c.status,
           c.not_before, c.not_after,
           i.status AS issuer_status,
           i.fingerprint_sha256 AS issuer_fingerprint,
           EXISTS (SELECT 1 FROM signatures_certificatecustodian cc
                   WHERE cc.certificate_id = c.id AND cc.user_id = %s) AS signer_is_custodian,
           (SELECT r.id FROM signatures_revocationlist r WHERE r.issuer_id = c.issuer_id
            ORDER BY r.this_update DESC, r.id DESC LIMIT 1) AS current_crl_id
    FROM signatures_certificate c
         JOIN signatures_trustedissuer i ON i.id = c.issuer_id
    WHERE c.fingerprint_sha256 = %s AND c.status <> %s
    ORDER BY c.id
"""

_MANDATES = """
    SELECT * FROM brokers_authorization
    WHERE trader_id = %s AND broker_id = %s AND status = %s AND valid_from <= %s AND valid_until >= %s
    ORDER BY id
"""


def trader_by_tax_code(tax_code: str) -> Organization | None:
    found = list(Organization.objects.raw(_TRADER, [tax_code, Organization.Kind.TRADER]))
    return found[0] if found else None


def certificates_presented(fingerprint: str, signer_id: int) -> list[Certificate]:
    """The bindings of ``fingerprint``, each with ``issuer_status``, ``issuer_fingerprint``,
    ``signer_is_custodian`` and ``current_crl_id``."""
    return list(
        Certificate.objects.raw(_PRESENTED, [signer_id, fingerprint, Certificate.Status.PENDING_PROOF])
    )


def mandates_in_force(trader_id: int, broker_id: int, today: datetime.date) -> list[Authorization]:
    return list(
        Authorization.objects.raw(
            _MANDATES, [trader_id, broker_id, Authorization.Status.ACTIVE, today, today]
        )
    )
