"""``GET /healthz``: is each part this process needs reachable?

Public: anyone gets the overall status and its HTTP code. Which part is down (and how long each
check took) is for probes on the host itself (a loopback client address, as the container's own
health check and an operator's ``curl localhost`` are) and for officers signed in; even then never
why in detail (no hosts, no messages).
"""

from __future__ import annotations

import ipaddress
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from config.tasks import HEARTBEAT_CACHE_KEY
from core.context import current_context

WORKER_PING_TIMEOUT = 1.0
WORKER_PING_CACHE_SECONDS = 5.0

_worker_lock = threading.Lock()
_worker_last: tuple[float, dict] | None = None


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        result = check() or {}
        result.setdefault("ok", True)
    except Exception as exc:
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_cache() -> dict:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return {"ok": ok}


def check_broker() -> dict:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
    return {}


def check_worker() -> dict:
    """Ping the workers; cached briefly so a busy load balancer does not flood them."""
    global _worker_last
    with _worker_lock:
        if _worker_last and time.monotonic() - _worker_last[0] < WORKER_PING_CACHE_SECONDS:
            return dict(_worker_last[1])
        replies = celery_app.control.ping(timeout=WORKER_PING_TIMEOUT, limit=1)
        result = {"ok": bool(replies), "workers": len(replies)}
        heartbeat = cache.get(HEARTBEAT_CACHE_KEY)
        if heartbeat is not None:
            result["beat_heartbeat_age_s"] = round(time.time() - heartbeat, 1)
        _worker_last = (time.monotonic(), result)
        return dict(result)


def reset_worker_cache() -> None:
    global _worker_last
    with _worker_lock:
        _worker_last = None


@never_cache
@require_GET
def healthz(request):
    checks: dict[str, dict] = {"database": _timed(check_database), "cache": _timed(check_cache)}
    required = {"database", "cache"}
    if celery_app.conf.task_always_eager:
        checks["broker"] = {"ok": True, "mode": "eager"}
        checks["worker"] = {"ok": True, "mode": "eager"}
    else:
        checks["broker"] = _timed(check_broker)
        required.add("broker")
        checks["worker"] = (
            _timed(check_worker) if checks["broker"]["ok"] else {"ok": False, "error": "no broker"}
        )
        if settings.HEALTHZ_REQUIRE_WORKER:
            required.add("worker")
    for name, result in checks.items():
        result["required"] = name in required
    healthy = all(checks[name]["ok"] for name in required)
    degraded = not all(result["ok"] for result in checks.values())
    status = "down" if not healthy else ("degraded" if degraded else "ok")
    body = {"status": status, "checks": checks} if _may_see_the_checks(request) else {"status": status}
    return JsonResponse(body, status=200 if healthy else 503)


def _may_see_the_checks(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_officer:
        return True
    address = current_context().ip  # the address the trusted proxies vouch for
    return address is not None and ipaddress.ip_address(address).is_loopback
