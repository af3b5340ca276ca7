"""National-scale data for benchmarks: a thin command over ``bench.seed``, which lives in the
checkout only (bench/ is not in the wheel)."""

from __future__ import annotations

import dataclasses

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

SIZES = ("enterprises", "brokers", "declarations", "signins", "audit_events", "officers", "days")


class Command(BaseCommand):
    help = (
        "Empty a PostgreSQL benchmark database (its name must contain 'scale' or 'bench') and fill it "
        "with enterprises, brokers, declarations with signature records, sign-ins and a sealed audit trail. "
        "Needs a checkout: the generator is in bench/seed/."
    )

    def add_arguments(self, parser):
        # Defaults are bench.seed's Sizes; left unset here so that --help works without bench/.
        for name in SIZES:
            parser.add_argument(
                f"--{name.replace('_', '-')}",
                type=int,
                default=None,
                help="default: Sizes in bench/seed/state.py",
            )
        parser.add_argument("--seed", type=int, default=10, help="random seed (same seed, same data)")

    def handle(self, *args, seed: int, **options):
        try:
            # Here, not at the top: an installed wheel has this command but not bench/.
            from bench.seed.scale import ScaleRefused, Sizes, database_check, seed_scale
        except ImportError as missing:
            raise CommandError(
                "seed_scale needs the benchmark code in bench/seed/, which is in a checkout of the "
                f"repository, not in the installed package ({missing})"
            ) from None
        sizes = dataclasses.replace(
            Sizes(), **{name: options[name] for name in SIZES if options[name] is not None}
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
        self.stdout.write(f"database {connection.settings_dict['NAME']}")
        seed_scale(sizes, out=self.stdout.write, seed=seed)
