from django.core.management.base import BaseCommand

from config.schedules import install_schedules


class Command(BaseCommand):
    help = "Install the project's periodic schedules into django-celery-beat (idempotent)."

    def handle(self, *args, **options):
        installed, disabled = install_schedules()
        self.stdout.write(f"{installed} schedules installed, {disabled} obsolete schedules disabled")
