"""National-scale data for benchmarks; the generator is ``signatures.scale``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from signatures.scale import ScaleRefused, Sizes, database_check, seed_scale


class Command(BaseCommand):
    help = (
        "Empty a PostgreSQL benchmark database (its name must contain 'scale' or 'bench') and fill it "
        "with enterprises, brokers, declarations with signature records, sign-ins and a sealed audit trail."
    )

    def add_arguments(self, parser):
        defaults = Sizes()
        for name in ("enterprises", "brokers", "declarations", "signins", "audit_events", "officers", "days"):
            parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
        parser.add_argument("--seed", type=int, default=10, help="random seed (same seed, same data)")

    def handle(self, *args, seed: int, **options):
        sizes = Sizes(
            **{
                name: options[name]
                for name in (
                    "enterprises",
                    "brokers",
                    "declarations",
                    "signins",
                    "audit_events",
                    "officers",
                    "days",
                )
            }
        )
        if (
            min(sizes.enterprises, sizes.brokers, sizes.days) < 1
            or min(sizes.declarations, sizes.signins, sizes.audit_events, sizes.officers) < 0
        ):
            raise CommandError("sizes must be positive (enterprises, brokers and days at least 1)")
        try:
            database_check()
        except ScaleRefused as refusal:
            raise CommandError(str(refusal)) from None
        from django.db import connection

        self.stdout.write(f"database {connection.settings_dict['NAME']}")
        seed_scale(sizes, out=self.stdout.write, seed=seed)
