from django.core.management.base import BaseCommand

from audit.keys import public_key_pem, signing_key, signing_key_id


class Command(BaseCommand):
    help = "Print the current audit signing key's id and public key (PEM)."

    def handle(self, *args, **options):
        self.stderr.write(f"key id: {signing_key_id()}")
        self.stdout.write(public_key_pem(signing_key().public_key()), ending="")
