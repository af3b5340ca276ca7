"""The words of each notification kind, rendered in the reader's language when shown or mailed."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from accounts.models import Notification, SignInReview, User
from accounts.tokens import signin_review_token
from audit.models import Case
from core.links import absolute_url

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
    Kind.LICENCE_GRANTED: _(
        "Customs granted %(broker)s the customs brokerage licence %(licence)s. It is listed in the "
        "broker directory and its confirmed agents may sign for clients who give it a mandate."
    ),
    Kind.LICENCE_REJECTED: _(
        "Customs rejected the customs brokerage licence application of %(broker)s. Reason: %(reason)s"
    ),
    Kind.LICENCE_EXPIRED: _(
        "The customs brokerage licence %(licence)s of %(broker)s expired on %(date)s: it cannot sign "
        "for anyone until customs renews it."
    ),
    Kind.LICENCE_SUSPENDED: _(
        "The customs brokerage licence %(licence)s of %(broker)s is suspended: its mandates are "
        "suspended and it cannot sign for anyone until reinstated."
    ),
    Kind.LICENCE_REINSTATED: _("The customs brokerage licence %(licence)s of %(broker)s is active again."),
    Kind.LICENCE_REVOKED: _(
        "The customs brokerage licence %(licence)s of %(broker)s is revoked: its mandates have ended."
    ),
    # Registrars' notices: the email is how they learn of it (officers do not use the portal's
    # list), so it names the enterprise and ends with the console page where it is decided. A
    # proposal names no person and no agent number: its console page shows them, and an officer's
    # look at them there is audited.
    Kind.LICENCE_APPLIED: _(
        "%(broker)s (tax code %(tax_code)s) applied for recognition as a customs broker (customs "
        "agents proposed: %(agents)s). Review the application in the officer console, then grant "
        "or reject it."
    ),
    Kind.AGENT_PROPOSED: _(
        "%(broker)s (tax code %(tax_code)s) proposed a member of its staff as a customs agent. "
        "Review the proposal in the officer console, then confirm or reject it."
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
        "about it looks unusual (%(reasons)s). Was this you? Answer once, within a few days."
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


# The choices whose codes a notice's parameters may hold, by notice kind and parameter: the rows
# written before notices stored labels hold the raw code ("revoked", "import, export"), which is
# shown by its label. A higher app names its own choices when it starts (its ``AppConfig.ready``
# calls ``notice_choices_register``): this app may not import it.
PARAM_CHOICES: dict[tuple[str, str], dict[str, Promise]] = {
    (Kind.ROLE_CHANGED, "role"): dict(User.Role.choices),
    (Kind.INVITATION_ACCEPTED, "role"): dict(User.Role.choices),
    (Kind.CASE_CLOSED, "outcome"): dict(Case.Outcome.choices),
}
# Parameters that arrive as labels in their source language (``core.text.source_text``), which the
# catalogue translates.
SOURCE_LABELS = ("status", "scopes")


def notice_choices_register(*, kind: str, param: str, choices: type[models.Choices]) -> None:
    """The notices of ``kind`` may hold codes of ``choices`` in ``param``: show their labels."""
    PARAM_CHOICES[kind, param] = dict(choices.choices)


def _words(kind: str, name: str, value) -> str:
    """A parameter in the reader's language: a choice code (or a list of them, or old rows'
    comma-separated codes) by its label, a label in its source language translated."""
    labels = PARAM_CHOICES.get((kind, name), {})
    items = value if isinstance(value, list) else [value]
    if isinstance(value, str) and labels and all(part in labels for part in value.split(", ")):
        items = value.split(", ")
    return ", ".join(str(labels[item]) if item in labels else gettext(str(item)) for item in items)


# A signature by the trader's own staff names the person, not an agent number it does not have.
STAFF_SIGNATURE_TEXT = _(
    "Declaration %(number)s was signed in your enterprise's name by %(person)s, of your own staff. "
    "If you did not authorise it, report misuse at once."
)
# Added to a "was this you?" notice when the risk engine has already acted on the same sign-in:
# one notice per sign-in, carrying everything about it.
PROTECTED_TEXT = _("We have already protected the account: %(responses)s.")

# Where each kind of notice leads in the portal, and the words of that link.
PORTAL_LINKS = {
    Kind.NEW_DEVICE: ("signin_history", _("See your sign-in history")),
    Kind.LOCKED_OUT: ("signin_history", _("See your sign-in history")),
    Kind.RISK_RESPONSE: ("signin_history", _("See your sign-in history")),
    Kind.PASSWORD_BREACHED: ("password_change", _("Choose a new password")),
    Kind.MFA_DISABLED: ("mfa", _("Two-factor authentication")),
    Kind.RECOVERY_CODE_USED: ("mfa", _("Two-factor authentication")),
    Kind.CERTIFICATE_BOUND: ("certificate_list", _("See your certificates")),
    Kind.CERTIFICATE_EXPIRING: ("certificate_list", _("See your certificates")),
    Kind.CERTIFICATE_SUSPENDED: ("certificate_list", _("See your certificates")),
    Kind.CERTIFICATE_REINSTATED: ("certificate_list", _("See your certificates")),
    Kind.CERTIFICATE_REVOKED: ("certificate_list", _("See your certificates")),
    Kind.CERTIFICATE_EXPIRED: ("certificate_list", _("See your certificates")),
    Kind.CUSTODIANS_CHANGED: ("certificate_list", _("See your certificates")),
    Kind.MANDATE_INVITED: ("mandate_list", _("See the mandates")),
    Kind.MANDATE_CHANGED: ("mandate_list", _("See the mandates")),
    Kind.MANDATE_EXPIRING: ("mandate_list", _("See the mandates")),
    Kind.LICENCE_SUSPENDED: ("mandate_list", _("See the mandates")),
    Kind.LICENCE_REVOKED: ("mandate_list", _("See the mandates")),
    Kind.REPORT_DUE: ("operation_report_list", _("See the operations reports")),
    Kind.DECLARATION_SIGNED: ("declaration_list", _("See the signatures in your name")),
    Kind.DECLARATION_DIGEST: ("declaration_list", _("See the signatures in your name")),
}


# Notices that lead outside the portal (to the officer console), by kind: a function of the notice
# giving the page's path, and the link's words. The app that owns the page registers it when it
# starts (``notice_link_register`` in its ``AppConfig.ready``): this app may not import it.
EXTERNAL_LINKS: dict[str, tuple[Callable[[Notification], str], Promise]] = {}


def notice_link_register(*, kind: str, path: Callable[[Notification], str], words: Promise) -> None:
    """The notices of ``kind`` lead to ``path(notification)``; their email ends with it in full."""
    EXTERNAL_LINKS[kind] = (path, words)


def notification_link(notification: Notification) -> tuple[str, str]:
    """Where the notice leads in the portal, as ``(path, words)``; ``("", "")`` if nowhere. The
    "was this you?" link is the review's own single-use link."""
    if notification.kind in EXTERNAL_LINKS:
        build, words = EXTERNAL_LINKS[notification.kind]
        path = build(notification)
        return (path, str(words)) if path else ("", "")
    if notification.kind == Kind.SIGNIN_REVIEW:
        review = _review_of(notification)
        if review is None:
            return "", ""
        path = reverse("signin_review", kwargs={"token": signin_review_token(review)})
        return path, str(_("Answer: was this you?"))
    if notification.kind not in PORTAL_LINKS:
        return "", ""
    name, words = PORTAL_LINKS[notification.kind]
    return reverse(name), str(words)


def _review_of(notification: Notification) -> SignInReview | None:
    review_id = notification.params.get("review") if notification.kind == Kind.SIGNIN_REVIEW else None
    return SignInReview.objects.filter(pk=review_id).only("pk", "nonce").first() if review_id else None


def signin_review_link(notification: Notification) -> str:
    """The absolute "was this you?" link of a ``signin_review`` notification ("" for others). It is
    rendered from the review's id, not stored: the row holds no bearer link."""
    path, _words = notification_link(notification) if notification.kind == Kind.SIGNIN_REVIEW else ("", "")
    return absolute_url(path) if path else ""


def _field_label(name: str) -> str:
    try:
        return str(User._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def notification_text(notification: Notification) -> str:
    """The notice as an email says it: its sentence, then its "was this you?" link, or the console
    page it leads to, in full."""
    text = notification_sentence(notification)
    link = signin_review_link(notification)
    if link:
        return f"{text}\n\n{link}"
    if notification.kind in EXTERNAL_LINKS:
        path, words = notification_link(notification)
        if path:
            return f"{text}\n\n{words}:\n{absolute_url(path)}"
    return text


def notification_sentence(notification: Notification) -> str:
    """The notice's words without any address: the portal shows its link as a link beside them."""
    params = dict(notification.params)
    text = TEXT.get(notification.kind)
    if notification.kind == Kind.DECLARATION_SIGNED and params.get("person"):
        text = STAFF_SIGNATURE_TEXT
    responses = "; ".join(
        str(_(RESPONSE_LABELS[r])) for r in params.get("responses", []) if r in RESPONSE_LABELS
    )
    params["responses"] = responses
    if notification.kind == Kind.SIGNIN_REVIEW:
        params["reasons"] = ", ".join(str(DETECTOR_NAMES.get(r, r)) for r in params.get("reasons", []))
    # Higher apps' labels (a mandate's status and kinds) arrive in their source language, and
    # older rows hold choice codes (PARAM_CHOICES).
    coded = {param for kind, param in PARAM_CHOICES if kind == notification.kind}
    for name in coded.union(SOURCE_LABELS):
        if params.get(name) and isinstance(params[name], str | list):
            params[name] = _words(notification.kind, name, params[name])
    if params.get("fields"):
        params["fields"] = ", ".join(_field_label(name) for name in params["fields"].split(", "))
    if text is None:
        return str(Notification.Kind(notification.kind).label)
    try:
        sentence = str(text) % params
    except (KeyError, TypeError, ValueError):
        # An old row whose parameters no longer fit still says what happened.
        return str(Notification.Kind(notification.kind).label)
    if notification.kind == Kind.SIGNIN_REVIEW and responses:
        sentence += " " + str(PROTECTED_TEXT) % {"responses": responses}
    return sentence
