from django.apps import AppConfig


class DemoConfig(AppConfig):
    """``manage.py seed_demo``: the data ``make run`` loads. Nothing imports this app."""

    name = "demo"
