import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.selectors import AuditNotSealed, audit_receipt_build


class Command(BaseCommand):
    help = (
        "Print the receipt of one audit event (JSON), to verify offline with python -m audit.verify_receipt."
    )

    def add_arguments(self, parser):
        parser.add_argument("event_id", help="the event's UUID")
        parser.add_argument(
            "--withhold-network",
            action="store_true",
            help="leave out where the event came from (IP address, user agent, request id), "
            "for a receipt handed to someone who may not see them",
        )

    def handle(self, *args, event_id: str, withhold_network: bool, **options):
        try:
            event = AuditEvent.objects.get(event_id=uuid.UUID(event_id))
        except (ValueError, AuditEvent.DoesNotExist):
            raise CommandError(f"no audit event {event_id!r}") from None
        try:
            receipt = audit_receipt_build(event=event, disclose_network=not withhold_network)
        except AuditNotSealed as exc:
            raise CommandError(f"no receipt yet: {exc}; run python manage.py seal_audit") from None
        self.stdout.write(json.dumps(receipt, indent=2, ensure_ascii=False))
