from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project's own app: base templates, static files, translations, health, schedules."""

    name = "config"
    label = "config"
    verbose_name = "Customs Signature Governance"

    def ready(self) -> None:
        from django.apps import apps
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from config.schedules import install_schedules_after_migrate
        from core.pg_loaders import compiled_timestamp_loader

        connection_created.connect(compiled_timestamp_loader, dispatch_uid="config.compiled_timestamp_loader")

        # post_migrate is only sent for apps with models; the beat tables are what we write to.
        post_migrate.connect(
            install_schedules_after_migrate, sender=apps.get_app_config("django_celery_beat")
        )
