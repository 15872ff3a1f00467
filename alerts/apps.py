from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Runs in every process (web, worker, beat): timelines and hand-off
        # e-mails built by a Celery task see alerts as pages do.
        from oncall.hooks import register_handoff_context

        from . import queries  # noqa: F401 — registers the alert timeline source
        from .handoff import handoff_context

        register_handoff_context(handoff_context)
