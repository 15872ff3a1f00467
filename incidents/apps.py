from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the alert timeline source in every process (web, worker, beat).
        from . import alert_queries  # noqa: F401
