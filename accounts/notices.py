"""The words of each notification kind, rendered in the reader's language when shown or mailed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import Notification, User
from audit.models import Case

Kind = Notification.Kind

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
    Kind.ABUSE_REPORTED: _(
        "%(organization)s reported that its signature or an account was misused. "
        "A high-severity flag is open."
    ),
}


def notification_text(notification: Notification) -> str:
    params = dict(notification.params)
    if params.get("role") in User.Role.values:
        params["role"] = User.Role(params["role"]).label
    if params.get("outcome") in Case.Outcome.values:
        params["outcome"] = Case.Outcome(params["outcome"]).label
    try:
        return str(TEXT[notification.kind]) % params
    except (KeyError, TypeError, ValueError):
        # An old row whose parameters no longer fit still says what happened.
        return str(Notification.Kind(notification.kind).label)
