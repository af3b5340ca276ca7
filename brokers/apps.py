from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BrokersConfig(AppConfig):
    name = "brokers"
    verbose_name = _("Brokers")

    def ready(self) -> None:
        from accounts.models import Notification
        from accounts.notices import notice_choices_register
        from brokers import schema  # noqa: F401 - registers the OpenAPI description of API keys
        from brokers.models import Authorization

        # Notices written before they stored labels hold a mandate's status and kinds as codes.
        notice_choices_register(
            kind=Notification.Kind.MANDATE_CHANGED, param="status", choices=Authorization.Status
        )
        notice_choices_register(
            kind=Notification.Kind.MANDATE_INVITED, param="scopes", choices=Authorization.Scope
        )
