from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignaturesConfig(AppConfig):
    name = "signatures"
    verbose_name = _("Signatures")

    def ready(self) -> None:
        from signatures import receivers  # noqa: F401  (connects the risk engine's signals)
