from django.apps import AppConfig


class CoreConfig(AppConfig):
    """No models: installed so its template tags and system checks load."""

    name = "core"

    def ready(self):
        from django.urls import register_converter

        from . import checks  # noqa: F401 — registers the checks
        from .ids import IdConverter

        register_converter(IdConverter, "id")
