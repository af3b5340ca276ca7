from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def console_page(name: str, param: str):
    """The path of the console's page ``name`` for the object whose id the notice holds in
    ``param`` ("" for a notice without it)."""

    def path(notification) -> str:
        pk = notification.params.get(param)
        return reverse(f"officers:{name}", args=[pk]) if pk else ""

    return path


class OfficersConfig(AppConfig):
    """The officers' console and decisions. It has no models of its own (flags and cases are audit's,
    an enterprise's compliance fields accounts'); Django's admin autodiscovery imports
    ``officers.admin``, which registers every console page."""

    name = "officers"
    verbose_name = _("Officers")

    def ready(self) -> None:
        # Imported here, once the models are loaded (receivers use the services); connects the
        # lower apps' signals.
        from accounts.models import Notification
        from accounts.notices import notice_link_register
        from officers import receivers

        # The registrars' notices (brokers.services.licensing) lead to the console page where the
        # application or proposal is decided: the brokers app may not name the console's pages.
        notice_link_register(
            kind=Notification.Kind.LICENCE_APPLIED,
            path=console_page("brokers_licenceapplication_change", "application"),
            words=_("Open the application in the officer console"),
        )
        notice_link_register(
            kind=Notification.Kind.AGENT_PROPOSED,
            path=console_page("brokers_agentproposal_change", "proposal"),
            words=_("Open the proposal in the officer console"),
        )

        # The officer console's groups, once the last app's permissions exist (apps are migrated, and
        # their permissions created, in INSTALLED_APPS order; signatures is the last with models, and
        # an app without models, as this one, is sent no post_migrate).
        post_migrate.connect(
            receivers.officer_groups_after_migrate,
            sender=apps.get_app_config("signatures"),
            dispatch_uid="officers.officer_groups",
        )
