from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OfficersConfig(AppConfig):
    """The officers' console and decisions. It has no models of its own (flags and cases are audit's,
    an enterprise's compliance fields accounts'); Django's admin autodiscovery imports
    ``officers.admin``, which registers every console page."""

    name = "officers"
    verbose_name = _("Officers")

    def ready(self) -> None:
        # Imported here, once the models are loaded (receivers use the services); connects the
        # lower apps' signals.
        from officers import receivers

        # The officer console's groups, once the last app's permissions exist (apps are migrated, and
        # their permissions created, in INSTALLED_APPS order; signatures is the last with models, and
        # an app without models, as this one, is sent no post_migrate).
        post_migrate.connect(
            receivers.officer_groups_after_migrate,
            sender=apps.get_app_config("signatures"),
            dispatch_uid="officers.officer_groups",
        )
