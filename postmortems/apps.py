from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Runs in every process (web, worker, beat): resolving a SEV1/SEV2 makes its postmortem due, closing
        # waits for it to be published, and its events join the incident's timeline.
        from incidents.guards import register_close_guard

        # queries registers the timeline source; receivers connects the signal receivers.
        from . import queries, receivers  # noqa: F401
        from .queries import unpublished_postmortem

        register_close_guard(unpublished_postmortem, code="postmortem_required")
        # The incident page's panels: the postmortem (views.incident), similar past incidents (views.library).
        from .views import incident, library  # noqa: F401
