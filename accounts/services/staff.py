"""An enterprise's staff: invitations by one-time link, roles, deactivation (DESIGN §4: one
person, one account; the owner and administrators manage, and do not sign)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Notification, Organization, StaffInvitation, User
from accounts.services.notifications import notification_send
from accounts.services.permissions import require_manageable, require_manager
from accounts.services.sessions import sessions_end_all
from accounts.services.users import user_create
from audit.models import Action
from audit.services.events import audit_event_record
from core.errors import ApplicationError
from core.links import absolute_url


def _invitation_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt="accounts.staff-invitation")


def invitation_token(invitation: StaffInvitation) -> str:
    return _invitation_signer().sign_object({"invitation": invitation.pk, "email": invitation.email})


@transaction.atomic
def staff_invite(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    national_id_number: str,
    role: str,
    job_title: str = "",
) -> StaffInvitation:
    """Invite a named person into the actor's enterprise in ``role``. Refused (``ValidationError``)
    for the owner role, an email already used by an account, or a person (ID number) who already
    has an account or a pending invitation here. Records ``user.invited``; the link goes out
    after the commit."""
    require_manager(actor, actor.organization_id)
    if role not in User.STAFF_ROLES:
        raise ValidationError({"role": ValidationError(gettext("Choose a staff role."), code="invalid_role")})
    if actor.role == User.Role.ADMINISTRATOR and role == User.Role.ADMINISTRATOR:
        raise ValidationError(
            {
                "role": ValidationError(
                    gettext("Only the owner can appoint administrators."), code="not_allowed"
                )
            }
        )
    return _invitation_create(
        organization=actor.organization,
        invited_by=actor,
        email=email,
        first_name=first_name,
        last_name=last_name,
        national_id_number=national_id_number,
        role=role,
        job_title=job_title,
    )


@transaction.atomic
def operator_invite(
    *,
    organization: Organization,
    email: str,
    first_name: str,
    last_name: str,
    national_id_number: str,
    role: str,
    job_title: str = "",
) -> StaffInvitation:
    """The operator (command line, no acting account) invites a person: the owner of an enterprise
    it created without one, or a staff member. The same checks as ``staff_invite``; one owner per
    enterprise, so an owner is refused where one exists or is already invited. Records
    ``user.invited`` with no actor."""
    if role not in User.ORGANIZATION_ROLES:
        raise ValidationError({"role": ValidationError(gettext("Choose a role."), code="invalid_role")})
    if role == User.Role.OWNER and (
        organization.members.filter(role=User.Role.OWNER).exists()
        or organization.invitations.filter(
            role=User.Role.OWNER, status=StaffInvitation.Status.PENDING
        ).exists()
    ):
        raise ValidationError(
            {"role": ValidationError(gettext("This enterprise already has an owner."), code="not_allowed")}
        )
    return _invitation_create(
        organization=organization,
        invited_by=None,
        email=email,
        first_name=first_name,
        last_name=last_name,
        national_id_number=national_id_number,
        role=role,
        job_title=job_title,
    )


def _invitation_create(*, organization: Organization, invited_by: User | None, **person) -> StaffInvitation:
    invitation = StaffInvitation(
        organization=organization,
        invited_by=invited_by,
        expires_at=timezone.now() + datetime.timedelta(days=settings.INVITATION_DAYS),
        **(person | {"email": person["email"].strip()}),
    )
    invitation.full_clean()
    errors = {}
    if User.objects.filter(email__iexact=invitation.email).exists():
        errors["email"] = ValidationError(
            gettext("This email address is already used by another account."), code="duplicate_email"
        )
    if User.objects.filter(
        organization=organization, national_id_number=invitation.national_id_number
    ).exists():
        errors["national_id_number"] = ValidationError(
            gettext("This person already has an account in your enterprise: one person, one account."),
            code="duplicate_person",
        )
    if errors:
        raise ValidationError(errors)
    invitation.save()
    audit_event_record(
        action=Action.USER_INVITED,
        actor=invited_by,
        organization=organization,
        target=invitation,
        data={"role": invitation.role},
    )
    transaction.on_commit(lambda: _send_invitation(invitation))
    return invitation


def invitation_link(invitation: StaffInvitation) -> str:
    """The absolute one-time link that lets the invited person take the account."""
    return absolute_url(reverse("invitation_accept", kwargs={"token": invitation_token(invitation)}))


def _send_invitation(invitation: StaffInvitation) -> None:
    link = invitation_link(invitation)
    inviter = invitation.invited_by
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=gettext("You are invited to %(organization)s")
            % {"organization": invitation.organization.name},
            message=gettext(
                "%(person)s, %(inviter)s invites you to join %(organization)s in the Customs Signature "
                "Governance portal as %(role)s. Open this link within %(days)d days to choose your "
                "username and password:\n\n%(link)s\n\nThe account is yours alone: never share it."
            )
            % {
                "person": invitation.full_name,
                "inviter": (inviter.get_full_name() or inviter.username)
                if inviter is not None
                else gettext("the portal's operator"),
                "organization": invitation.organization.name,
                "role": User.Role(invitation.role).label,
                "days": settings.INVITATION_DAYS,
                "link": link,
            },
            from_email=None,
            recipient_list=[invitation.email],
        )


def invitation_read(*, token: str) -> StaffInvitation:
    """The pending invitation behind a link. Raises ``ApplicationError``: ``link_invalid``,
    ``link_expired`` or ``link_used`` (accepted or cancelled)."""
    try:
        payload = _invitation_signer().unsign_object(token)
    except signing.BadSignature:
        raise ApplicationError(gettext("This link is not valid."), code="link_invalid") from None
    invitation = (
        StaffInvitation.objects.select_related("organization", "invited_by")
        .filter(pk=payload.get("invitation"), email=payload.get("email"))
        .first()
    )
    if invitation is None:
        raise ApplicationError(gettext("This link is not valid."), code="link_invalid")
    if invitation.status != StaffInvitation.Status.PENDING:
        raise ApplicationError(gettext("This link has already been used."), code="link_used")
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(gettext("This link has expired. Ask for a new one."), code="link_expired")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str) -> User:
    """The invited person takes the account: the details the owner entered, the username and
    password they choose (the whole policy applies, with their own data as context). The address
    counts as verified, since the link reached it. Raises ``ApplicationError`` for a bad link,
    ``ValidationError`` for the username or password; nothing is saved on refusal."""
    invitation = invitation_read(token=token)
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != StaffInvitation.Status.PENDING:  # a concurrent acceptance won
        raise ApplicationError(gettext("This link has already been used."), code="link_used")
    user = user_create(
        username=username,
        email=invitation.email,
        role=invitation.role,
        organization=invitation.organization,
        actor=None,
        password=password,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        national_id_number=invitation.national_id_number,
        job_title=invitation.job_title,
        email_verified_at=timezone.now(),
    )
    invitation.status = StaffInvitation.Status.ACCEPTED
    invitation.user = user
    invitation.closed_at = timezone.now()
    invitation.save(update_fields=["status", "user", "closed_at"])
    if invitation.invited_by is not None:
        notification_send(
            user=invitation.invited_by,
            kind=Notification.Kind.INVITATION_ACCEPTED,
            person=user.get_full_name(),
            role=user.role,
        )
    return user


@transaction.atomic
def invitation_cancel(*, invitation: StaffInvitation, actor: User) -> StaffInvitation:
    require_manager(actor, invitation.organization_id)
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != StaffInvitation.Status.PENDING:
        raise ApplicationError(gettext("This invitation is no longer pending."), code="not_pending")
    invitation.status = StaffInvitation.Status.CANCELLED
    invitation.closed_at = timezone.now()
    invitation.save(update_fields=["status", "closed_at"])
    audit_event_record(
        action=Action.INVITATION_CANCELLED,
        actor=actor,
        organization=invitation.organization,
        target=invitation,
        data={},
    )
    return invitation


@transaction.atomic
def member_role_change(*, member: User, role: str, actor: User) -> User:
    """Give a staff member another staff role; records ``user.role_changed`` and tells them."""
    require_manageable(actor, member)
    if role not in User.STAFF_ROLES:
        raise ApplicationError(gettext("Choose a staff role."), code="invalid_role")
    if actor.role == User.Role.ADMINISTRATOR and role == User.Role.ADMINISTRATOR:
        raise ApplicationError(
            gettext("Only the owner can appoint administrators."), code="not_allowed", status_code=403
        )
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.role == role:
        return member
    previous = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit_event_record(
        action=Action.USER_ROLE_CHANGED,
        actor=actor,
        organization=member.organization,
        target=member,
        data={"from": previous, "to": role},
    )
    notification_send(
        user=member, kind=Notification.Kind.ROLE_CHANGED, organization=member.organization.name, role=role
    )
    return member


@transaction.atomic
def member_deactivate(*, member: User, actor: User) -> User:
    """The person has left, or must stop now: the account can no longer sign in, and its sessions
    end. Records ``user.deactivated``."""
    require_manageable(actor, member)
    member = User.objects.select_for_update().get(pk=member.pk)
    if not member.is_active:
        return member
    member.is_active = False
    member.deactivated_at = timezone.now()
    member.save(update_fields=["is_active", "deactivated_at"])
    audit_event_record(
        action=Action.USER_DEACTIVATED, actor=actor, organization=member.organization, target=member, data={}
    )
    sessions_end_all(user=member)
    notification_send(
        user=member, kind=Notification.Kind.ACCOUNT_DEACTIVATED, organization=member.organization.name
    )
    return member
