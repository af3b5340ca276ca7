"""Health check of the beat container: beat schedules ``worker_heartbeat`` every 30 seconds and a
worker runs it, so a recent heartbeat proves both are alive."""

import time

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError

from config.tasks import HEARTBEAT_CACHE_KEY


class Command(BaseCommand):
    help = "Exit 0 if beat and a worker produced a heartbeat recently, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=120, help="seconds (default 120)")

    def handle(self, *args, max_age: int, **options):
        try:
            heartbeat = cache.get(HEARTBEAT_CACHE_KEY)
        except Exception as error:  # the cache is Redis: down means no proof either way
            raise CommandError(f"cache unavailable ({type(error).__name__})") from None
        if heartbeat is None:
            raise CommandError("no heartbeat yet")
        age = time.time() - heartbeat
        if age > max_age:
            raise CommandError(f"last heartbeat {age:.0f} s ago")
        self.stdout.write(f"heartbeat {age:.0f} s ago")
