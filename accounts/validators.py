"""Identifiers of Vietnamese enterprises and citizens."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.vn import mst

_CITIZEN_ID = re.compile(r"^\d{12}$")


def normalize_tax_code(value: str) -> str:
    """Return the canonical form (``0100686209`` or ``0100686209-199``) or raise ``ValidationError``.

    The check digit and branch range are python-stdnum's (``stdnum.vn.mst``), as DESIGN §7 asks.
    """
    try:
        compact = mst.validate(value or "")
    except StdnumValidationError:
        raise ValidationError(
            _(
                "%(value)s is not a valid tax code: 10 digits with a correct check digit, optionally -001 to -999."  # noqa: E501
            ),
            code="invalid_tax_code",
            params={"value": (value or "")[:20]},
        ) from None
    return mst.format(compact)


def validate_tax_code(value: str) -> None:
    if normalize_tax_code(value) != value:
        raise ValidationError(
            _("Tax codes are stored in their canonical form (0100686209 or 0100686209-199)."),
            code="tax_code_not_canonical",
        )


def validate_citizen_id(value: str) -> None:
    if not _CITIZEN_ID.match(value or ""):
        raise ValidationError(
            _("A citizen ID number (CCCD) has exactly 12 digits."), code="invalid_citizen_id"
        )


def normalize_phone(value: str) -> str:
    """E.164 (``+84912345678``) for a Vietnamese or international number, or ``ValidationError``."""
    try:
        number = phonenumbers.parse(value or "", "VN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(value)s is not a valid phone number."),
            code="invalid_phone",
            params={"value": (value or "")[:20]},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
