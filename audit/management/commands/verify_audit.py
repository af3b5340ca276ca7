from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.models import Action
from audit.published import published_checkpoint_load
from audit.services.events import audit_event_record
from audit.verification import audit_verify, default_jobs
from audit.verify_receipt import InputError, load_public_key


class Command(BaseCommand):
    help = (
        "Recompute every audit hash, tree node, checkpoint root, signature and link. "
        "Exits 1 naming the first event position or checkpoint that does not match."
    )

    def add_arguments(self, parser):
        parser.add_argument("--witness-key", action="append", default=[], help="a witness's public key (PEM)")
        parser.add_argument(
            "--no-record", action="store_true", help="do not record the result as an audit event"
        )
        parser.add_argument("--all", action="store_true", help="list every problem, not only the first ten")
        parser.add_argument(
            "--published",
            action="append",
            default=[],
            help="a checkpoint kept outside the database (audit_checkpoint_export); repeatable",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=default_jobs(),
            help="processes checking links and leaves on PostgreSQL (default: CPUs, at most 8)",
        )

    def handle(self, *args, witness_key: list[str], published: list[str], jobs: int, **options):
        if jobs < 1:
            raise CommandError("--jobs must be at least 1", returncode=2)
        try:
            witness_keys = tuple(load_public_key(Path(path)) for path in witness_key)
            checkpoints = tuple(published_checkpoint_load(path) for path in published)
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        report = audit_verify(witness_keys=witness_keys, jobs=jobs, published=checkpoints)
        rate = report.events / report.seconds if report.seconds else 0
        self.stdout.write(
            f"{report.events} sealed events, {report.checkpoints} checkpoints, "
            f"{report.unsealed} not yet sealed; "
            f"{report.seconds:.2f}s ({rate:,.0f} events/s)"
        )
        for sequence, statuses in sorted(report.witnesses.items()):
            for witness_id, status in statuses:
                self.stdout.write(f"checkpoint #{sequence}: witness {witness_id} {status}")
        if not options["no_record"]:
            with transaction.atomic():
                audit_event_record(
                    action=Action.AUDIT_VERIFIED,
                    data={
                        "ok": report.ok,
                        "events": report.events,
                        "checkpoints": report.checkpoints,
                        "first_problem": str(report.first_problem) if report.first_problem else None,
                    },
                )
        if report.ok:
            self.stdout.write("audit trail OK")
            return
        shown = report.problems if options["all"] else report.problems[:10]
        for problem in shown:
            self.stderr.write(f"MISMATCH {problem}")
        if len(shown) < len(report.problems):
            self.stderr.write(f"... and {len(report.problems) - len(shown)} more (--all lists them)")
        raise CommandError(f"audit trail INVALID: first mismatch at {report.first_problem}", returncode=1)
