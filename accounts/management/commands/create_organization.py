from __future__ import annotations

from django.conf import settings

from accounts.models import Organization
from accounts.services.organizations import organization_onboard
from accounts.services.staff import invitation_link
from accounts.validators import normalize_phone
from core.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Create an enterprise (a trader, or a broker that then applies for its licence) and invite its "
        "owner: prints the owner's one-time invitation link."
    )
    command_name = "create_organization"

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=Organization.Kind.values)
        parser.add_argument("--tax-code", required=True, help="10 digits, or 10 digits-branch")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-first-name", required=True, help="given name")
        parser.add_argument("--owner-last-name", required=True, help="family name")
        parser.add_argument("--owner-id-number", required=True, help="the owner's citizen ID number (CCCD)")
        parser.add_argument("--owner-job-title", default="")
        parser.add_argument("--address", default="")
        parser.add_argument("--province", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument("--email", default="", help="the enterprise's own address")

    def handle(self, *args, **options):
        details = {key: options[key] for key in ("address", "province", "email") if options[key]}
        if options["phone"]:
            details["phone"] = normalize_phone(options["phone"])
        invitation = organization_onboard(
            kind=options["kind"],
            tax_code=options["tax_code"],
            name=options["name"],
            owner={
                "email": options["owner_email"],
                "first_name": options["owner_first_name"],
                "last_name": options["owner_last_name"],
                "national_id_number": options["owner_id_number"],
                "job_title": options["owner_job_title"],
            },
            **details,
        )
        organization = invitation.organization
        self.stdout.write(f"{organization.tax_code} {organization.name}: {organization.get_kind_display()}")
        self.stdout.write(
            f"owner invitation for {invitation.email}, valid {settings.INVITATION_DAYS} days, usable once:"
        )
        self.stdout.write(invitation_link(invitation))
