"""What counting would add to a large filer's signature history (docs/adr/0004-uncounted-page.md).

    createdb -h 127.0.0.1 -U postgres csg_bench_uncounted
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/csg_bench_uncounted \
        .venv/bin/python bench/uncounted_pages.py

Seeds once (kept for later runs) a trader with 32,000 signature records, as the largest filer of
the national-scale seed has, among 50 others with 2,000 each. Then, in-process with Django's test
client, it alternates the portal's history page (``/declarations/``, pages 1 and 50, which count
nothing) with the count Django's ``Paginator`` would run for the same records, and prints both
medians and the page's time with the count added, as a ratio.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "ERROR")

FILER_RECORDS, OTHERS, OTHER_RECORDS, ROUNDS = 32_000, 50, 2_000, 300


def main() -> int:
    if "bench" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts.models import Organization, User
    from signatures.models import SignatureRecord
    from signatures.selectors import signature_records_for

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]

    from bench.tax_codes import unused_tax_code as tax_code

    def records(organization, signer, count):
        return [
            SignatureRecord(
                declaration_number=f"{organization.pk}-{n:08d}", declaration_kind="import",
                trader=organization, trader_tax_code=organization.tax_code, signer=signer,
                signer_organization=organization,
                signature=b"", document_sha256="0" * 64, outcome="accepted", channel="api",
            )
            for n in range(count)
        ]  # fmt: skip

    filer = Organization.objects.filter(name="Bench large filer").first()
    if filer is None:
        filer = Organization.objects.create(
            kind="trader", tax_code=tax_code(), name="Bench large filer", status="active"
        )
        signer = User.objects.create_user(
            username="bench.filer", password=secrets.token_urlsafe(24), organization=filer, role="signer"
        )
        SignatureRecord.objects.bulk_create(records(filer, signer, FILER_RECORDS), batch_size=2_000)
        for n in range(OTHERS):
            other = Organization.objects.create(kind="trader", tax_code=tax_code(), name=f"Bench other {n}")
            SignatureRecord.objects.bulk_create(records(other, signer, OTHER_RECORDS), batch_size=2_000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE signatures_signaturerecord")
    viewer = User.objects.get(username="bench.filer")
    client = Client()
    client.force_login(viewer)
    pages: dict[int, list[float]] = {1: [], 50: []}
    counts: dict[int, list[float]] = {1: [], 50: []}
    for round_ in range(ROUNDS):
        for number in pages:
            started = time.perf_counter()
            if client.get(f"/declarations/?page={number}").status_code != 200:
                sys.exit(f"/declarations/?page={number} did not answer 200")
            page_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            total = signature_records_for(viewer=viewer).count()
            count_ms = (time.perf_counter() - started) * 1000
            if round_ >= 20:  # after the warm-up
                pages[number].append(page_ms)
                counts[number].append(count_ms)
    print(f"records of the filer: {total:,}")
    for number in pages:
        page, count = statistics.median(pages[number]), statistics.median(counts[number])
        print(
            f"page {number}: page p50 {page:.2f} ms; the count a Paginator would add p50 {count:.2f} ms; "
            f"with it {(page + count) / page:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
