"""Write the newest audit checkpoint, with its witness co-signatures, to keep outside the database
(audit/published.py); ``verify_audit --published FILE`` checks the trail against it."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import checkpoint_document, checkpoint_latest


class Command(BaseCommand):
    help = (
        "Write the newest signed audit checkpoint as JSON, to keep where the application cannot rewrite it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="a new file (never overwritten)")

    def handle(self, *args, out: str, **options):
        checkpoint = checkpoint_latest()
        if checkpoint is None:
            raise CommandError("no checkpoint yet: run seal_audit once events are recorded", returncode=2)
        document = json.dumps(checkpoint_document(checkpoint), indent=2, sort_keys=True) + "\n"
        try:
            with Path(out).open("x") as file:
                file.write(document)
        except FileExistsError:
            raise CommandError(f"{out} exists: each checkpoint goes to a new file", returncode=2) from None
        except OSError as error:
            raise CommandError(f"cannot write {out}: {error.strerror}", returncode=2) from None
        self.stdout.write(
            f"checkpoint #{checkpoint.sequence} (tree size {checkpoint.tree_size}) written to {out}"
        )
