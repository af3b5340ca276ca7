"""One-time email verification links: signed, time-limited, and void once used or once the
address changes (the address is part of what is signed)."""

from __future__ import annotations

from django.core import signing

SALT = "accounts.email-verification"


def email_verification_token(user) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"user": user.pk, "email": user.email})


def email_verification_read(token: str, *, max_age: int) -> dict:
    """The signed payload; raises ``signing.SignatureExpired`` or ``signing.BadSignature``."""
    return signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=max_age)
