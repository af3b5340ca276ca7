"""What one hostile filing costs the server, against a normal one (issue "Hardening", finding 2).

    createdb -h 127.0.0.1 -U postgres csg_bench_cms
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/csg_bench_cms REDIS_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python bench/cms_bounds.py

Builds the signing benchmark's world (bench/sign.py), then files through ``POST /api/v1/declarations/``
in-process (Django's test client: the whole request but the web server), alternating a normal
signed declaration with each hostile variant of the same signature (bench/hostile_cms.py): the
review's 1 MB of 3,900 certificates, and within the 64 KiB bound the most elements or the deepest
nesting it allows in each part the server reads. Redis is the queue, so the tasks a filing queues
are published, not run in the request. The refusal limit is lifted for the run. Prints
each variant's median and p95 time, its answer, and its ratio to the normal filing's median (the
variant with 10 certificates passes every check and is refused only as a duplicate number).
Target: every hostile filing within 2x a normal one.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

TARGET_RATIO = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=100, help="filings of each kind (default 100)")
    args = parser.parse_args()
    if "bench" not in os.environ.get("DATABASE_URL", "") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name contains 'bench', and REDIS_URL.")
    os.environ["SIGNING_REFUSALS_PER_MINUTE"] = "1000000000"
    os.environ["API_RATE"] = "1000000000/min"
    os.environ.setdefault("LOG_LEVEL", "ERROR")

    from bench.sign import build_world

    key, bodies, _baseline = build_world(args.rounds * 11 + 1)  # a normal one before each of 10 variants

    from django.conf import settings
    from django.test import Client

    from bench import hostile_cms
    from signatures.cms import MAX_CMS_BYTES

    settings.ALLOWED_HOSTS = ["*"]
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_ACCEPT_LANGUAGE="en")
    first = json.loads(bodies[0])
    signed = base64.b64decode(first["signature"])
    from asn1crypto import cms as asn1_cms

    certificate = asn1_cms.ContentInfo.load(signed)["content"]["certificates"][0].dump()
    size = MAX_CMS_BYTES
    variants = {
        "1 MB, 3,900 certificates": hostile_cms.many_certificates(
            signed, certificate, 1_000_000 // len(certificate)
        ),
        "10 certificates (the bound)": hostile_cms.many_certificates(signed, certificate, 9),
        "64 KiB of certificates": hostile_cms.many_certificates(
            signed, certificate, (size - len(signed)) // len(certificate)
        ),
        "tiny elements in certificates": hostile_cms.tiny_elements_in_certificates(signed, size),
        "tiny elements in signer infos": hostile_cms.tiny_elements_in_signer_infos(signed, size),
        "tiny signed attributes": hostile_cms.tiny_signed_attributes(signed, size),
        "many values of one attribute": hostile_cms.many_values_in_an_attribute(signed, size),
        "tiny elements after SignedData": hostile_cms.tiny_elements_after_signed_data(signed, size),
        "deeply nested attribute": hostile_cms.deeply_nested_attribute(signed, size),
        "deeply nested certificate": hostile_cms.deeply_nested_certificate(signed, size),
    }
    timings: dict[str, list[float]] = {"normal": []} | {label: [] for label in variants}
    answers: dict[str, str] = {}

    def post(body: str) -> tuple[float, str]:
        start = time.perf_counter()
        response = client.post("/api/v1/declarations/", body, content_type="application/json")
        elapsed = (time.perf_counter() - start) * 1000
        return elapsed, f"{response.status_code} {response.json().get('code', 'accepted')}"

    normal_bodies = iter(bodies[1:])
    for _round in range(args.rounds):
        for label, hostile in variants.items():
            elapsed, answers["normal"] = post(next(normal_bodies))  # alternate: a normal one before each
            timings["normal"].append(elapsed)
            body = json.loads(bodies[0]) | {"signature": base64.b64encode(hostile).decode()}
            elapsed, answers[label] = post(json.dumps(body))
            timings[label].append(elapsed)

    normal = statistics.median(timings["normal"])
    print(f"{'filing':34s} {'bytes':>9s} {'p50 ms':>8s} {'p95 ms':>8s} {'x normal':>9s}  answer")
    worst = 0.0
    for label, values in timings.items():
        values.sort()
        p50, p95 = statistics.median(values), values[int(len(values) * 0.95) - 1]
        size_of = len(signed) if label == "normal" else len(variants[label])
        ratio = p50 / normal
        worst = max(worst, ratio if label != "normal" else 0)
        print(f"{label:34s} {size_of:9d} {p50:8.2f} {p95:8.2f} {ratio:9.2f}  {answers[label]}")
    print(f"worst hostile filing: {worst:.2f}x a normal one (target <= {TARGET_RATIO})")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
