from __future__ import annotations

from accounts.models import User
from accounts.validators import normalize_tax_code
from brokers.services.api_keys import API_KEY_MAX_DAYS, api_key_create
from core.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Make an API key for a member of an enterprise, acting as that member with the chosen scopes. "
        "The key is printed once, on standard output only: store it at once."
    )
    command_name = "create_api_key"

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="the enterprise's tax code")
        parser.add_argument("--user", required=True, help="the username of the member the key acts as")
        parser.add_argument("--scopes", required=True, help="comma separated: read, declare, manage")
        parser.add_argument("--days", type=int, default=90, help=f"1 to {API_KEY_MAX_DAYS}; 90 by default")
        parser.add_argument("--name", default="", help="where the key is used, e.g. 'ECUS server'")

    def handle(self, *args, **options):
        holder = (
            User.objects.select_related("organization")
            .filter(
                username=options["user"], organization__tax_code=normalize_tax_code(options["organization"])
            )
            .first()
        )
        if holder is None:
            raise self.refuse(
                f"unknown_user: no account {options['user']} in the enterprise {options['organization']}"
            )
        key, secret = api_key_create(
            actor=None,
            holder=holder,
            name=options["name"] or f"operator key for {holder.username}",
            scopes=[scope.strip() for scope in options["scopes"].split(",") if scope.strip()],
            expires_in_days=options["days"],
        )
        self.stderr.write(
            f"key {key.prefix} for {holder.username} ({', '.join(key.scopes)}), "
            f"expires {key.expiry_date:%Y-%m-%d}; shown once:"
        )
        self.stdout.write(secret)
