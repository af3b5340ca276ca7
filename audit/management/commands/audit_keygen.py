from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.keys import public_key_pem, write_private_key
from audit.verify_receipt import key_id


class Command(BaseCommand):
    help = "Write a new Ed25519 audit signing key (PEM, mode 0600) and print its id and public key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", required=True, help="file to create; an existing file is never overwritten"
        )

    def handle(self, *args, out: str, **options):
        path = Path(out)
        try:
            key = write_private_key(path)
        except FileExistsError:
            raise CommandError(f"{path} exists; refusing to overwrite a signing key") from None
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from None
        self.stdout.write(f"key id: {key_id(key.public_key())}")
        self.stdout.write(public_key_pem(key.public_key()))
