from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from audit.services.officer_groups_pending import officer_group_set, officer_groups_sync


class Command(BaseCommand):
    help = (
        "Create or update the officer console's groups (officer viewer, investigator, registrar, "
        "administrator) with their permissions; with --set USERNAME GROUP[,GROUP], put an officer "
        "in exactly those groups. Idempotent; run after migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--set", nargs=2, metavar=("USERNAME", "GROUPS"), help="e.g. --set anh registrar")

    def handle(self, *args, set=None, **options):
        try:
            counts = officer_groups_sync()
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} permissions")
        if set:
            username, groups = set
            officer = get_user_model().objects.filter(username=username).first()
            if officer is None:
                raise CommandError(f"no account named {username}")
            try:
                officer_group_set(officer=officer, groups=[g.strip() for g in groups.split(",") if g.strip()])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{username}: {groups}")
