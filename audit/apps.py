from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self):
        from audit.guards import audit_triggers_never_ignored

        # After every app's migrations: pgtrigger re-creates its ignore check with each trigger.
        post_migrate.connect(audit_triggers_never_ignored, dispatch_uid="audit_triggers_never_ignored")
