"""The officer console's groups: Django groups named ``officer <name>`` carrying exactly the
permissions of ``officers.permissions.OFFICER_GROUPS``."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from accounts.models import User
from accounts.services.users import user_create
from audit.models import Action
from audit.services.events import audit_event_record
from officers.permissions import OFFICER_GROUPS


@transaction.atomic
def officer_groups_sync() -> dict[str, int]:
    """Create (or bring back in line) the officer console's groups with exactly the permissions of
    ``OFFICER_GROUPS``; permissions added by hand to these groups are removed.
    Returns the number of permissions per group. Raises ``LookupError`` for a permission that does
    not exist (a renamed model), so a broken list fails loudly instead of granting less."""
    counts = {}
    for name, wanted in OFFICER_GROUPS.items():
        permissions = []
        for dotted in sorted(set(wanted)):
            app_label, codename = dotted.split(".", 1)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                raise LookupError(f"permission {dotted} does not exist (run migrate first)")
            permissions.append(permission)
        group, _created = Group.objects.get_or_create(name=f"officer {name}")
        group.permissions.set(permissions)
        counts[group.name] = len(permissions)
    return counts


@transaction.atomic
def officer_group_set(*, officer, groups: list[str], actor=None):
    """Put an officer in exactly ``groups`` (names of ``OFFICER_GROUPS``, without the ``officer ``
    prefix); their other officer groups are left. Records ``user.role_changed``. Raises
    ``ValueError`` for a non-officer or an unknown group."""
    if not getattr(officer, "is_officer", False):
        raise ValueError("only customs officers belong to officer groups")
    unknown = sorted(set(groups) - set(OFFICER_GROUPS))
    if unknown:
        raise ValueError(f"unknown officer group(s): {', '.join(unknown)}")
    officer_groups_sync()
    current = officer.groups.filter(name__startswith="officer ")
    officer.groups.remove(*current)
    officer.groups.add(*Group.objects.filter(name__in=[f"officer {name}" for name in groups]))
    audit_event_record(
        action=Action.USER_ROLE_CHANGED,
        actor=actor,
        target=officer,
        data={"officer_groups": sorted(groups)},
    )
    return officer


@transaction.atomic
def officer_create(
    *,
    username: str,
    email: str,
    groups: list[str],
    password: str,
    first_name: str = "",
    last_name: str = "",
    actor=None,
):
    """An officer account in ``groups`` (names of ``OFFICER_GROUPS``): the password policy applies,
    and the console asks for a second factor at the first sign-in. Records ``user.created`` and
    ``user.role_changed``. Raises ``ValidationError`` (an unknown or no group, the account's
    details, the password); nothing is saved then."""
    unknown = sorted(set(groups) - set(OFFICER_GROUPS))
    if not groups or unknown:
        raise ValidationError(
            {
                "group": ValidationError(
                    gettext("Choose among the officer groups: %(groups)s."),
                    code="invalid_choice",
                    params={"groups": ", ".join(OFFICER_GROUPS)},
                )
            }
        )
    officer = user_create(
        username=username,
        email=email,
        role=User.Role.OFFICER,
        organization=None,
        actor=actor,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_staff=True,
    )
    return officer_group_set(officer=officer, groups=groups, actor=actor)
