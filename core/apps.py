from django.apps import AppConfig


class CoreConfig(AppConfig):
    """No models: installed so its template tags load."""

    name = "core"
