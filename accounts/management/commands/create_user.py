from __future__ import annotations

from django.conf import settings

from accounts.models import Organization, User
from accounts.services.staff import invitation_link, operator_invite
from accounts.validators import normalize_tax_code
from core.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Invite a staff member into an enterprise in a role: prints the one-time link where they choose "
        "their username and password (one person, one account)."
    )
    command_name = "create_user"

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="the enterprise's tax code")
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", required=True, help="given name")
        parser.add_argument("--last-name", required=True, help="family name")
        parser.add_argument("--id-number", required=True, help="the person's citizen ID number (CCCD)")
        parser.add_argument("--role", required=True, choices=User.STAFF_ROLES)
        parser.add_argument("--job-title", default="")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(
            tax_code=normalize_tax_code(options["organization"])
        ).first()
        if organization is None:
            raise self.refuse(
                f"unknown_organization: no enterprise has the tax code {options['organization']}"
            )
        invitation = operator_invite(
            organization=organization,
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
            national_id_number=options["id_number"],
            role=options["role"],
            job_title=options["job_title"],
        )
        self.stdout.write(
            f"{invitation.email} invited to {organization.name} as {invitation.get_role_display()}, "
            f"valid {settings.INVITATION_DAYS} days, usable once:"
        )
        self.stdout.write(invitation_link(invitation))
