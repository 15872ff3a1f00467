from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Runs in every process (web, worker, beat), so timelines and hand-off
        # e-mails built by a Celery task see the same data as pages.
        from oncall.hooks import register_handoff_context

        from .handoff import handoff_context

        register_handoff_context(handoff_context)
