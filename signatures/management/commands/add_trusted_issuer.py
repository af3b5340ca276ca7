from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from signatures.exceptions import CertificateRefused
from signatures.services import trust


class Command(BaseCommand):
    help = "Trust a CA certificate (PEM or DER) for signing certificates."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--name", default="", help="a name officers recognise, e.g. 'VNPT-CA SHA-256'")
        parser.add_argument("--crl-url", default="", help="where CRL_FETCH downloads its revocation list")

    def handle(self, *args, file: Path, name: str, crl_url: str, **options):
        try:
            issuer = trust.trusted_issuer_add(data=file.read_bytes(), name=name, actor=None, crl_url=crl_url)
        except CertificateRefused as refusal:
            raise CommandError(f"{refusal.code}: {refusal.detail}") from None
        self.stdout.write(f"trusted: {issuer.name} ({issuer.fingerprint_sha256})")
