from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from signatures.exceptions import CertificateRefused
from signatures.services import trust


class Command(BaseCommand):
    help = "Load a revocation list (PEM or DER) for one of the trusted issuers."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            crl = trust.crl_import(data=file.read_bytes(), actor=None)
        except CertificateRefused as refusal:
            raise CommandError(f"{refusal.code}: {refusal.detail}") from None
        self.stdout.write(
            f"loaded: {crl.issuer.name}, issued {crl.this_update:%Y-%m-%d %H:%M} UTC, "
            f"{crl.revoked_count} revoked certificate(s)"
        )
