"""Diagnostics tasks: a ping for health checks and the worker heartbeat."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.core.cache import cache

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "health:worker-heartbeat"


@shared_task(ignore_result=False, acks_late=False)
def ping(value: str = "pong") -> str:
    return value


@shared_task(acks_late=False)
def worker_heartbeat() -> float:
    now = time.time()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=600)
    return now
