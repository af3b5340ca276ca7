from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import BaseCommand, CommandError

from audit.services.witnesses import WitnessRefusal, audit_checkpoints_witness
from audit.verify_receipt import key_id


class Command(BaseCommand):
    help = (
        "Co-sign checkpoints with an independent witness's Ed25519 key, after checking the log's "
        "signature and that each tree extends the last one this witness signed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--key", required=True, help="the witness's private key (PEM); the application never holds it"
        )

    def handle(self, *args, key: str, **options):
        try:
            private_key = serialization.load_pem_private_key(Path(key).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise CommandError(f"cannot load the witness key {key!r}: {exc}") from None
        if not isinstance(private_key, Ed25519PrivateKey):
            raise CommandError("the witness key must be Ed25519")
        try:
            signed = audit_checkpoints_witness(private_key=private_key)
        except WitnessRefusal as exc:
            raise CommandError(f"refusing to co-sign: {exc}") from None
        witness = key_id(private_key.public_key())
        listed = ", ".join(f"#{n}" for n in signed) or "none (all already co-signed)"
        self.stdout.write(f"witness {witness} co-signed: {listed}")
