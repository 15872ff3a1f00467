from django.apps import AppConfig


class CoreConfig(AppConfig):
    """No models: installed so its template tags and system checks load."""

    name = "core"

    def ready(self):
        from . import checks  # noqa: F401 — registers the checks
