"""Read-path benchmark at national scale (issue #10, "Load and scale").

    createdb -h 127.0.0.1 -U postgres csg_scale
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/csg_scale
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_scale
    .venv/bin/python bench/scale.py

Runs against a database ``seed_scale`` filled (its name must contain "scale" or "bench"). Gives a
few trader owners (the biggest filers and a random sample) and one officer a fresh random password
and authenticator, starts gunicorn (2 sync workers, DEBUG off, Redis as the queue, as
``bench/sign.py``), signs them in through the real sign-in pages (password, then TOTP code), and
loads with wrk (-t2 -c8, after a warm-up), one endpoint at a time:

* the trader's declaration history        ``/declarations/?page=N``
* the enterprise's sign-in history         ``/accounts/sign-ins/?scope=organization&page=N``
* the public broker directory search        ``/brokers/?q=…``
* the officer's who-signed search           ``/officers/who-signed/?tax_code=…`` (and by
  declaration number, agent number, certificate)

A wrk Lua script cycles through a shuffled list of (session, URL) pairs, so requests spread over
many enterprises, pages and search terms. Prints p50/p95/p99 and req/s per endpoint against the
target (p95 <= 150 ms), then the same at one connection per worker (the service time, without
queueing), then the EXPLAIN (ANALYZE, BUFFERS) of each page's queries and whether they use an index.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

TARGET_P95_MS = 150.0
PORT = 8766
BASE = f"http://127.0.0.1:{PORT}"
BIG_TABLES = (
    "signatures_signaturerecord",
    "signatures_declaration",
    "accounts_signinevent",
    "audit_auditevent",
    "accounts_organization",
    "accounts_user",
)

LUA = r"""
local items = {}
for line in io.lines(os.getenv("BENCH_REQUESTS")) do
  local cookie, path = line:match("^(.-)\t(.*)$")
  items[#items + 1] = {cookie, path}
end
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) counter = 0 end
function request()
  counter = counter + 1
  local item = items[((counter - 1) * 2 + id) % #items + 1]
  local headers = {}
  if item[1] ~= "" then headers["Cookie"] = item[1] end
  return wrk.format("GET", item[2], headers)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT p50=%d p75=%d p90=%d p95=%d p99=%d max=%d requests=%d duration=%d errors=%d\n",
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, summary.requests, summary.duration,
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


# --- accounts to sign in as ----------------------------------------------------------------------


def prepare_accounts(owners: int, password: str) -> dict:
    """Owners of the biggest filers and of a random sample of enterprises, and one officer, each
    with ``password`` and a new authenticator; the search terms the officer will use."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.db.models import Count
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Organization, User
    from brokers.models import AgentStaff
    from signatures.models import SignatureRecord

    rng = random.Random(10)
    big = list(
        SignatureRecord.objects.values_list("trader_id", flat=True)
        .annotate(n=Count("id"))
        .order_by("-n")[: max(1, owners // 4)]
    )
    sample = list(
        Organization.objects.filter(kind="trader", status="active")
        .order_by("?")
        .values_list("pk", flat=True)[: owners - len(big)]
    )
    owner_users = list(
        User.objects.filter(organization_id__in=big + sample, role="owner", is_active=True).select_related(
            "organization"
        )
    )
    officer = User.objects.filter(role="officer", is_active=True, groups__isnull=False).order_by("pk").first()
    people = [*owner_users, officer]
    # One hash for all: a benchmark password, set only in a benchmark database.
    User.objects.filter(pk__in=[u.pk for u in people]).update(
        password=make_password(password), suspended_at=None, must_change_password=False
    )
    TOTPDevice.objects.filter(user__in=people).delete()
    keys = {}
    for user in people:
        key = secrets.token_hex(20)
        TOTPDevice.objects.create(user=user, name="bench", key=key, confirmed=True)
        keys[user.username] = key
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE otp_totp_totpdevice")
    terms = {
        "tax_code": [u.organization.tax_code for u in owner_users]
        + list(Organization.objects.order_by("?").values_list("tax_code", flat=True)[:100]),
        "declaration_number": list(
            SignatureRecord.objects.order_by("?").values_list("declaration_number", flat=True)[:100]
        ),
        "agent_number": list(AgentStaff.objects.order_by("?").values_list("agent_number", flat=True)[:50]),
        "certificate": list(
            SignatureRecord.objects.order_by("?").values_list("certificate_fingerprint", flat=True)[:30]
        ),
    }
    rng.shuffle(owner_users)
    return {"owners": owner_users, "officer": officer, "keys": keys, "terms": terms, "big": set(big)}


def totp_now(key_hex: str) -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(key_hex)):06d}"


def sign_in(login_path: str, verify_path: str, username: str, password: str, key_hex: str) -> str:
    """Sign in through the pages a person uses; returns the session's Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def token(page: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    page = opener.open(BASE + login_path, timeout=30).read().decode()
    form = {"csrfmiddlewaretoken": token(page), "username": username, "password": password}
    response = opener.open(BASE + login_path, urllib.parse.urlencode(form).encode(), timeout=30)
    if verify_path not in response.url:
        raise RuntimeError(f"{username}: the password step did not lead to the second factor")
    page = response.read().decode()
    form = {"csrfmiddlewaretoken": token(page), "code": totp_now(key_hex)}
    response = opener.open(BASE + verify_path, urllib.parse.urlencode(form).encode(), timeout=30)
    if verify_path in response.url or login_path in response.url:
        raise RuntimeError(f"{username}: the second factor was refused")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


# --- request lists ---------------------------------------------------------------------------------


def request_lists(accounts: dict, cookies: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    from bench.seed.values import PROVINCES, WORDS

    rng = random.Random(11)
    owners = [u for u in accounts["owners"] if u.username in cookies]
    declarations, signins, directory, who = [], [], [], []
    for user in owners:
        cookie = cookies[user.username]
        # Mostly the first page, as people read it; some further back.
        for page in (1, 1, 1, 2, 3, rng.randrange(4, 40)):
            declarations.append((cookie, f"/declarations/?page={page}"))
            signins.append((cookie, f"/accounts/sign-ins/?scope=organization&page={page}"))
        signins.append((cookie, "/accounts/sign-ins/"))
    queries = [
        *WORDS,
        *(p for _c, p in PROVINCES),
        "Đại lý",
        "Hải quan",
        "TNHH",
        "03",
        "010",
        "TCHQ",
        "00012",
    ]
    for query in queries:
        directory.append(("", "/brokers/?" + urllib.parse.urlencode({"q": query})))
    for _c, province in PROVINCES[:8]:
        directory.append(("", "/brokers/?" + urllib.parse.urlencode({"province": province})))
    officer_cookie = cookies[accounts["officer"].username]
    for criterion, values in accounts["terms"].items():
        for value in values:
            who.append(
                (officer_cookie, "/officers/who-signed/?" + urllib.parse.urlencode({criterion: value}))
            )
    lists = {
        "declaration history": declarations,
        "sign-in history": signins,
        "broker directory": directory,
        "who signed": who,
    }
    for items in lists.values():
        rng.shuffle(items)
    return lists


def check_requests(name: str, items: list[tuple[str, str]]) -> None:
    """Every URL answers 200 for its session (a redirect to a sign-in page would be a fast lie)."""
    statuses: dict[int, int] = {}
    for cookie, path in items[:40]:
        headers = {"Cookie": cookie} if cookie else {}
        request = urllib.request.Request(BASE + path, headers=headers)  # noqa: S310 - our own server
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            status = opener.open(request, timeout=60).status
        except urllib.error.HTTPError as error:
            status = error.code
        statuses[status] = statuses.get(status, 0) + 1
    if set(statuses) != {200}:
        raise RuntimeError(f"{name}: unexpected answers {statuses}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wrk(requests_file: Path, script: Path, seconds: int, connections: int) -> dict:
    env = dict(os.environ, BENCH_REQUESTS=str(requests_file))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), BASE],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = re.search(r"^RESULT (.*)$", out, re.M).group(1)
    values = {key: int(value) for key, value in (pair.split("=") for pair in line.split())}
    return {
        "p50": values["p50"] / 1000,
        "p95": values["p95"] / 1000,
        "p99": values["p99"] / 1000,
        "max": values["max"] / 1000,
        "rate": values["requests"] / (values["duration"] / 1e6),
        "errors": values["errors"],
        "requests": values["requests"],
    }


# --- the plans ---------------------------------------------------------------------------------


def explain_all(accounts: dict) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import selectors as account_selectors
    from brokers import selectors as broker_selectors
    from core.pagination import UncountedPage
    from officers.who_signed import PAGE_SIZE
    from signatures import selectors as signature_selectors

    owner = next(u for u in accounts["owners"] if u.organization_id in accounts["big"])
    officer = accounts["officer"]

    # Each page as its view reads it.
    def uncounted(rows, number: int = 1, size: int = 50):
        return list(UncountedPage(rows, number, size))

    cases = [
        (
            f"declaration history of a large filer's owner ({owner.organization.tax_code}), page 3",
            lambda: uncounted(signature_selectors.SignatureHistory(viewer=owner), 3),
        ),
        (
            "enterprise sign-in history (same owner), page 3",
            lambda: uncounted(account_selectors.signin_list_for_organization(viewer=owner), 3),
        ),
        (
            "own sign-in history (same owner)",
            lambda: uncounted(account_selectors.signin_list_for_user(user=owner)),
        ),
        (
            "broker directory, q='Sao Mai'",
            lambda: uncounted(broker_selectors.broker_directory(query="Sao Mai"), 1, 25),
        ),
        (
            f"who signed, tax code {owner.organization.tax_code}",
            lambda: signature_selectors.signature_audit_events(
                list(
                    signature_selectors.signature_search(
                        viewer=officer, tax_code=owner.organization.tax_code
                    )[: PAGE_SIZE + 1]
                )
            ),
        ),
        (
            "who signed, declaration number",
            lambda: list(
                signature_selectors.signature_search(
                    viewer=officer, declaration_number=accounts["terms"]["declaration_number"][0]
                )[: PAGE_SIZE + 1]
            ),
        ),
        (
            "who signed, agent number",
            lambda: list(
                signature_selectors.signature_search(
                    viewer=officer, agent_number=accounts["terms"]["agent_number"][0]
                )[: PAGE_SIZE + 1]
            ),
        ),
        (
            "who signed, certificate",
            lambda: list(
                signature_selectors.signature_search(
                    viewer=officer, certificate=accounts["terms"]["certificate"][0]
                )[: PAGE_SIZE + 1]
            ),
        ),
    ]
    print("\nEXPLAIN (ANALYZE, BUFFERS) of each page's queries:")
    for title, run in cases:
        with CaptureQueriesContext(connection) as captured:
            run()
        print(f"\n=== {title}: {len(captured.captured_queries)} queries ===")
        for query in captured.captured_queries:
            sql = query["sql"]
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            sequential = sorted({t for t in BIG_TABLES if f"Seq Scan on {t}" in plan})
            total = re.search(r"Execution Time: ([\d.]+) ms", plan)
            print(f"\n-- {sql[:300]}{'…' if len(sql) > 300 else ''}")
            print(plan)
            print(
                f"-- {total.group(1) if total else '?'} ms; uses an index: "
                + (f"NO (sequential scan of {', '.join(sequential)})" if sequential else "yes")
            )


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--owners", type=int, default=40, help="trader owners to sign in")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--skip-explain", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections

    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "postgresql" or ("scale" not in name and "bench" not in name):
        print(
            f"refusing: {name!r} is not a PostgreSQL scale/bench database (see seed_scale)", file=sys.stderr
        )
        return 2
    settings.DEBUG = False  # DEBUG keeps every query in memory
    work = Path(tempfile.mkdtemp(prefix="csg-scale-"))
    password = secrets.token_urlsafe(24)
    accounts = prepare_accounts(args.owners, password)
    connections.close_all()
    (work / "scale.lua").write_text(LUA)
    key_file = Path(settings.AUDIT_SIGNING_KEY_PATH)
    if not key_file.exists():
        print(f"no audit signing key at {key_file}: run seed_scale with the same DATA_DIR", file=sys.stderr)
        return 2
    server_env = dict(
        os.environ,
        DEBUG="false",
        EMAIL_URL="smtp://127.0.0.1:2525",  # nothing is mailed: tasks go to Redis, no worker runs
        SECRET_KEY=secrets.token_urlsafe(64),
        # The key seed_scale signed the checkpoints with, so the site's trail stays one trail.
        AUDIT_SIGNING_KEY_FILE=str(key_file),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/11"),
        LOG_LEVEL="WARNING",
        DATA_DIR=str(work),
        STATIC_ROOT=str(work / "static"),
    )
    # Pages need their static files' manifest with DEBUG off, as in production.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=server_env,
        check=True,
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-w", "2", "-k", "sync",
         "-b", f"127.0.0.1:{PORT}", "--log-level", "warning", "--timeout", "120"],
        cwd=ROOT, env=server_env,
    )  # fmt: skip
    results: dict[str, dict] = {}
    unqueued: dict[str, dict] = {}
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{BASE}/brokers/", timeout=2)  # noqa: S310 - our own server
                break
            except OSError:
                time.sleep(0.2)
        cookies = {}
        started = time.perf_counter()
        for user in [*accounts["owners"], accounts["officer"]]:
            officer = user.role == "officer"
            cookies[user.username] = sign_in(
                "/officers/login/" if officer else "/accounts/login/",
                "/officers/login/verify/" if officer else "/accounts/login/verify/",
                user.username,
                password,
                accounts["keys"][user.username],
            )
        print(f"signed in {len(cookies)} accounts in {time.perf_counter() - started:.1f}s")
        lists = request_lists(accounts, cookies)
        for name, items in lists.items():
            path = work / f"{name.replace(' ', '-')}.tsv"
            path.write_text("".join(f"{cookie}\t{url}\n" for cookie, url in items))
            check_requests(name, items)
            wrk(path, work / "scale.lua", 3, args.connections)  # warm-up
            results[name] = wrk(path, work / "scale.lua", args.seconds, args.connections)
            unqueued[name] = wrk(path, work / "scale.lua", max(3, args.seconds // 2), 2)
            print(f"  {name}: {len(items)} distinct requests, done", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    print(
        f"\n{'endpoint':<22}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>8}"
        f"   target p95 <= {TARGET_P95_MS:.0f} ms   (wrk -t2 -c{args.connections} -d{args.seconds}s, "
        "gunicorn 2 sync workers)"
    )
    ok = True
    for name, r in results.items():
        meets = r["p95"] <= TARGET_P95_MS and r["errors"] == 0
        ok &= meets
        print(
            f"{name:<22}{r['p50']:9.1f}{r['p95']:9.1f}{r['p99']:9.1f}{r['rate']:9.1f}{r['errors']:8d}"
            f"   {'meets' if meets else 'MISSES'} (ratio {TARGET_P95_MS / max(r['p95'], 0.001):.2f})"
        )
    print("\nservice time (-c2, one connection per worker, no queueing):")
    for name, r in unqueued.items():
        print(f"{name:<22}{r['p50']:9.1f}{r['p95']:9.1f}{r['p99']:9.1f}{r['rate']:9.1f}{r['errors']:8d}")
    if not args.skip_explain:
        explain_all(accounts)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
