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


# "Was this you?" links (the risk engine). Not time-stamped: the review row holds its expiry and
# whether it was answered, so the same link can be rendered again (email, portal) and still
# works once only.
REVIEW_SALT = "accounts.signin-review"


def signin_review_token(review) -> str:
    return signing.dumps({"r": review.pk, "n": review.nonce}, salt=REVIEW_SALT, compress=False)


def signin_review_read(token: str) -> dict:
    """The signed payload; raises ``signing.BadSignature`` for a forged or garbled link."""
    payload = signing.loads(token, salt=REVIEW_SALT)
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("r"), int)
        or not isinstance(payload.get("n"), str)
    ):
        raise signing.BadSignature("unexpected payload")
    return payload
