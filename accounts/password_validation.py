"""Password rules of DESIGN §5 rule 4, as Django password validators (``AUTH_PASSWORD_VALIDATORS``).

Each raises ``ValidationError`` with a stable code; Django's ``validate_password`` collects every
validator's errors, so the user is told every reason at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from types import SimpleNamespace

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, is_password_usable
from django.contrib.auth.password_validation import get_default_password_validators
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from zxcvbn import zxcvbn

# Shorter context values ("An", "Ha") would forbid too many ordinary words.
MIN_CONTEXT_LENGTH = 4

# Legal-form and trade words that start most enterprise names; what is left is the name people
# would put in a password ("Công ty TNHH Hòa Bình" -> "Hòa Bình").
_NAME_NOISE = re.compile(
    r"\b(cong ty|tnhh|co phan|cp|mtv|mot thanh vien|hai thanh vien|xuat nhap khau|xnk|thuong mai|"
    r"dich vu|san xuat|dai ly hai quan|tap doan|chi nhanh|doanh nghiep tu nhan|dntn)\b"
)


def fold(text: str) -> str:
    """Lower-case, accents removed (``đ`` too), only letters and digits: ``Công ty Hòa Bình``
    becomes ``congtyhoabinh``."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def name_variants(name: str) -> set[str]:
    """An enterprise name whole, and without its legal-form words."""
    spaced = unicodedata.normalize("NFKD", (name or "").replace("đ", "d").replace("Đ", "D").lower())
    spaced = "".join(char for char in spaced if not unicodedata.combining(char))
    spaced = re.sub(r"[^0-9a-z]+", " ", spaced)
    return {value for value in (name, _NAME_NOISE.sub(" ", spaced)) if fold(value)}


def phone_variants(phone: str) -> set[str]:
    """A Vietnamese number as people write it: ``0912345678``, ``84912345678``, ``912345678``."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return set()
    national = digits[2:] if digits.startswith("84") else digits.lstrip("0")
    return {digits, national, "0" + national, "84" + national}


def user_context(user) -> list[str]:
    """The user's own data a password must not contain (raw, before folding)."""
    if user is None:
        return []
    values = [
        getattr(user, "username", ""),
        getattr(user, "first_name", ""),
        getattr(user, "last_name", ""),
        getattr(user, "national_id_number", ""),
    ]
    email = getattr(user, "email", "") or ""
    values.append(email.split("@", 1)[0])
    values.extend(phone_variants(getattr(user, "phone", "")))
    organization = getattr(user, "organization", None)
    if organization is not None:
        tax_code = organization.tax_code or ""
        # A branch (0100686209-199) is also its parent enterprise (0100686209).
        values.extend([tax_code, tax_code.replace("-", ""), tax_code.split("-", 1)[0]])
        values.extend(name_variants(organization.name))
        values.extend(phone_variants(organization.phone))
        values.append((organization.email or "").split("@", 1)[0])
    return [value for value in values if value]


class UserContextValidator:
    """The password must not be, or contain, the user's username, names, ID number, phone, email
    name, or the organisation's name, tax code or phone, forwards or reversed, ignoring case,
    accents, spaces and punctuation."""

    code = "password_contains_personal_data"

    def validate(self, password: str, user=None) -> None:
        folded = fold(password)
        reversed_folded = folded[::-1]
        for value in user_context(user):
            item = fold(value)
            if len(item) < MIN_CONTEXT_LENGTH:
                continue
            if item in folded or item in reversed_folded:
                raise ValidationError(
                    _(
                        "Your password contains your own or your organisation's details "
                        "(name, tax code, phone, email or ID number), or them reversed."
                    ),
                    code=self.code,
                )

    def get_help_text(self) -> str:
        return _("Your password must not contain your name, username, phone, email, ID number or tax code.")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule with sentences of our own catalogue: Django 5.2 reworded its message and its
    Vietnamese catalogue still translates only the old wording, so the English would show."""

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short. It must contain at least %(min_length)d character.",
            "This password is too short. It must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must contain at least %(min_length)d character.",
            "Your password must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}


class MaximumLengthValidator:
    """Upper bound so hashing stays cheap; at least 64 characters must be allowed (NIST SP 800-63B)."""

    code = "password_too_long"

    def __init__(self, max_length: int = 128):
        if max_length < 64:
            raise ValueError("NIST SP 800-63B asks for at least 64 characters to be allowed")
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code=self.code,
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password can have up to %(max_length)d character.",
            "Your password can have up to %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}


def password_strength(password: str, context: list[str]) -> int:
    """zxcvbn's score, 0 to 4; zxcvbn refuses more than 72 characters, so a longer passphrase is
    judged by its first 72."""
    return zxcvbn(password[:72], user_inputs=[fold(value) for value in context if value])["score"]


class StrengthValidator:
    """zxcvbn's estimate, with the user's own data as context, must reach ``min_score`` (0 to 4)."""

    code = "password_too_weak"

    def __init__(self, min_score: int = 3):
        self.min_score = min_score

    def validate(self, password: str, user=None) -> None:
        if password_strength(password, user_context(user)) < self.min_score:
            raise ValidationError(
                _("This password is too easy to guess. Use a longer passphrase of several unrelated words."),
                code=self.code,
            )

    def get_help_text(self) -> str:
        return _("Your password must be hard to guess: a passphrase of several unrelated words works well.")


class PasswordHistoryValidator:
    """Not the current password nor one of the ``count`` - 1 before it, nor any of them reversed."""

    code = "password_reused"

    def __init__(self, count: int = 5):
        self.count = count

    def validate(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        from accounts.models import PasswordHistory, User

        stored = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        earlier = PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)
        hashes = [stored, *earlier[: self.count - 1]]
        for encoded in hashes:
            if not encoded or not is_password_usable(encoded):
                continue
            if check_password(password, encoded) or check_password(password[::-1], encoded):
                raise ValidationError(
                    ngettext(
                        "You used this password (or its reverse) recently. Choose one you have not used "
                        "in your last %(count)d password.",
                        "You used this password (or its reverse) recently. Choose one you have not used "
                        "in your last %(count)d passwords.",
                        self.count,
                    ),
                    code=self.code,
                    params={"count": self.count},
                )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must differ from your last %(count)d password.",
            "Your password must differ from your last %(count)d passwords.",
            self.count,
        ) % {"count": self.count}


def typed_person(values: Mapping[str, str]) -> SimpleNamespace:
    """What a registration form has typed so far about the owner and the enterprise, shaped as the
    validators read a user (no account exists yet)."""
    organization = SimpleNamespace(
        tax_code=values.get("tax_code", ""),
        name=values.get("name", ""),
        phone=values.get("phone", ""),
        email=values.get("email", ""),
    )
    return SimpleNamespace(
        pk=None,
        username=values.get("username", ""),
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        national_id_number=values.get("national_id_number", ""),
        email=values.get("owner_email") or values.get("email", ""),
        phone=values.get("owner_phone") or values.get("phone", ""),
        organization=organization,
    )


def password_verdict(password: str, user) -> tuple[int, list[str]]:
    """What the strength meter shows: zxcvbn's score (0-4) and every rule the password breaks, by
    the same validators that judge it when the form is sent (``AUTH_PASSWORD_VALIDATORS``), so
    that the meter never calls "very strong" a password the rules then refuse. A refused password
    scores at most 1 ("weak"). The history check is left to the form: it hashes the password
    against the last five, which on every keystroke would make the meter a way to burn CPU."""
    problems: list[str] = []
    for validator in get_default_password_validators():
        if isinstance(validator, PasswordHistoryValidator):
            continue
        try:
            validator.validate(password, user)
        except ValidationError as error:
            problems.extend(error.messages)
    score = password_strength(password, user_context(user))
    return (min(score, 1) if problems else score), problems
