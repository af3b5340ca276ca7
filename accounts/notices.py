"""The words of each notification kind, rendered in the reader's language when shown or mailed."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from accounts.models import Notification, SignInReview, User
from accounts.tokens import signin_review_token
from audit.models import Case

Kind = Notification.Kind

DETECTOR_NAMES = {
    "new_device": _("a new device"),
    "new_network": _("a new network"),
    "foreign_party_device": _("a device or network used by another enterprise"),
    "broker_network": _("a customs broker's network"),
    "multi_tax_code_device": _("a device used for several enterprises"),
    "concurrent_networks": _("two networks at once"),
    "off_hours": _("outside working hours"),
    "brute_force": _("many failed attempts"),
    "password_spray": _("attempts on many accounts"),
    "dormant_account": _("a long unused account"),
}

# What each automatic response of the risk engine did (``RISK_RESPONSES``), as a risk-response
# notification names them.
RESPONSE_LABELS = {
    "step_up": gettext_noop("confirm it is you at your next step"),
    "end_sessions": gettext_noop("all your sessions were ended"),
    "lock_account": gettext_noop("the account is locked until your enterprise's owner reactivates it"),
    "suspend_certificates": gettext_noop("the certificates you may sign with are suspended"),
}

TEXT = {
    Kind.NEW_DEVICE: _(
        "Your account %(username)s was signed in to from a device not seen before (%(device)s, "
        "network %(network)s). If this was not you, change your password at once and end your "
        "other sessions."
    ),
    Kind.PASSWORD_CHANGED: _(
        "The password of your account %(username)s was changed. If you did not do this, tell your "
        "enterprise's owner and customs at once."
    ),
    Kind.PASSWORD_BREACHED: _(
        "The password of your account %(username)s appears in a published list of breached "
        "passwords. You will be asked to choose a new one at your next sign-in."
    ),
    Kind.MFA_ENABLED: _("Two-factor authentication was turned on for your account %(username)s."),
    Kind.MFA_DISABLED: _(
        "Two-factor authentication was turned off for your account %(username)s. If you did not do "
        "this, change your password at once."
    ),
    Kind.RECOVERY_CODES: _(
        "New recovery codes were made for your account %(username)s; the earlier ones no longer work."
    ),
    Kind.RECOVERY_CODE_USED: _(
        "A recovery code was used to sign in to your account %(username)s; %(remaining)s remain."
    ),
    Kind.LOCKED_OUT: _(
        "Sign-in to your account %(username)s was locked for a while after repeated failed "
        "attempts. If these were not yours, someone may be guessing your password."
    ),
    Kind.CONTACT_CHANGED: _("The contact details of your account %(username)s were changed (%(fields)s)."),
    Kind.ROLE_CHANGED: _("Your role in %(organization)s is now: %(role)s."),
    Kind.ACCOUNT_DEACTIVATED: _("Your account %(username)s in %(organization)s was deactivated."),
    Kind.ACCOUNT_REACTIVATED: _("Your account %(username)s in %(organization)s was reactivated."),
    Kind.INVITATION_ACCEPTED: _("%(person)s accepted your invitation and joined as %(role)s."),
    Kind.CERTIFICATE_BOUND: _("The certificate %(certificate)s is now bound to your enterprise."),
    Kind.CERTIFICATE_EXPIRING: _(
        "The certificate %(certificate)s ends on %(date)s. Renew it with its issuer and bind the new one."
    ),
    Kind.CERTIFICATE_SUSPENDED: _(
        "The certificate %(certificate)s was suspended: it cannot sign until reinstated."
    ),
    Kind.CERTIFICATE_REINSTATED: _("The certificate %(certificate)s was reinstated."),
    Kind.CERTIFICATE_REVOKED: _("The certificate %(certificate)s was revoked and can no longer sign."),
    Kind.CERTIFICATE_EXPIRED: _("The certificate %(certificate)s has expired."),
    Kind.CUSTODIANS_CHANGED: _("The people allowed to sign with the certificate %(certificate)s changed."),
    Kind.CASE_CLOSED: _("Customs closed case %(case)s about %(organization)s. Outcome: %(outcome)s."),
    Kind.LICENCE_SUSPENDED: _(
        "The customs brokerage licence %(licence)s of %(broker)s is suspended: its mandates are "
        "suspended and it cannot sign for anyone until reinstated."
    ),
    Kind.LICENCE_REINSTATED: _("The customs brokerage licence %(licence)s of %(broker)s is active again."),
    Kind.LICENCE_REVOKED: _(
        "The customs brokerage licence %(licence)s of %(broker)s is revoked: its mandates have ended."
    ),
    Kind.MANDATE_INVITED: _("%(party)s proposes a mandate (%(scopes)s). Accept or decline it in the portal."),
    Kind.MANDATE_CHANGED: _("The mandate between %(trader)s and %(broker)s is now: %(status)s."),
    Kind.MANDATE_EXPIRING: _("The mandate proposed by %(party)s expires on %(date)s unless it is accepted."),
    Kind.REPORT_DUE: _("The operations report for %(period)s was due on %(date)s and has not been filed."),
    Kind.DECLARATION_SIGNED: _(
        "Declaration %(number)s was signed in your enterprise's name by %(signer)s (agent %(agent)s). "
        "If you did not authorise it, report misuse at once."
    ),
    Kind.DECLARATION_DIGEST: _(
        "%(count)s declarations were signed in your enterprise's name on %(date)s: %(numbers)s. "
        "The portal lists each with its signer. If you did not authorise one, report misuse at once."
    ),
    Kind.SIGNIN_REVIEW: _(
        "The account %(account)s signed in at %(when)s from the network %(network)s, and something "
        "about it looks unusual (%(reasons)s). Was this you? Answer once, within a few days: "
        "%(link)s"
    ),
    Kind.RISK_RESPONSE: _(
        "After an unusual sign-in to your account %(username)s we protected it: %(responses)s. "
        "Your sign-in history shows why."
    ),
    Kind.ABUSE_REPORTED: _(
        "%(organization)s reported that its signature or an account was misused. "
        "A high-severity flag is open."
    ),
}


def signin_review_link(notification: Notification) -> str:
    """The absolute "was this you?" link of a ``signin_review`` notification ("" for others). It is
    rendered from the review's id, not stored: the row holds no bearer link."""
    review_id = notification.params.get("review") if notification.kind == Kind.SIGNIN_REVIEW else None
    review = SignInReview.objects.filter(pk=review_id).only("pk", "nonce").first() if review_id else None
    if review is None:
        return ""
    path = reverse("signin_review", kwargs={"token": signin_review_token(review)})
    return settings.SITE_URL.rstrip("/") + path


def _field_label(name: str) -> str:
    try:
        return str(User._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def notification_text(notification: Notification) -> str:
    params = dict(notification.params)
    if notification.kind == Kind.SIGNIN_REVIEW:
        params["link"] = signin_review_link(notification)
        params["reasons"] = ", ".join(str(DETECTOR_NAMES.get(r, r)) for r in params.get("reasons", []))
    if notification.kind == Kind.RISK_RESPONSE:
        params["responses"] = "; ".join(
            str(_(RESPONSE_LABELS[r])) for r in params.get("responses", []) if r in RESPONSE_LABELS
        )
    # Higher apps' labels (a mandate's status and kinds) arrive in their source language
    # (core.text.source_text): this app cannot know their choices, the catalogue can.
    for name in ("status", "scopes"):
        value = params.get(name)
        if isinstance(value, list):
            params[name] = ", ".join(gettext(item) for item in value)
        elif isinstance(value, str) and value:
            params[name] = gettext(value)
    if params.get("fields"):
        params["fields"] = ", ".join(_field_label(name) for name in params["fields"].split(", "))
    if params.get("role") in User.Role.values:
        params["role"] = User.Role(params["role"]).label
    if params.get("outcome") in Case.Outcome.values:
        params["outcome"] = Case.Outcome(params["outcome"]).label
    try:
        return str(TEXT[notification.kind]) % params
    except (KeyError, TypeError, ValueError):
        # An old row whose parameters no longer fit still says what happened.
        return str(Notification.Kind(notification.kind).label)
