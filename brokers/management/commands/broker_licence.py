from django.core.management.base import BaseCommand, CommandError

from brokers.models import BrokerLicence
from brokers.services.licences import licence_reinstate, licence_revoke, licence_suspend
from core.errors import ApplicationError

ACTIONS = {
    "suspend": licence_suspend,
    "reinstate": licence_reinstate,
    "revoke": licence_revoke,
}


class Command(BaseCommand):
    help = (
        "Suspend, reinstate or revoke a customs brokerage licence, with a reason (until the officer console)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=sorted(ACTIONS))
        parser.add_argument("number", help="the licence number, e.g. DLHQ-0001/2026")
        parser.add_argument("--reason", required=True)

    def handle(self, *args, action: str, number: str, reason: str, **options):
        licence = BrokerLicence.objects.filter(number=number).first()
        if licence is None:
            raise CommandError(f"no licence numbered {number}")
        try:
            licence = ACTIONS[action](licence=licence, actor=None, reason=reason)
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.detail}") from None
        self.stdout.write(f"{licence.number}: {licence.status}")
