from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "comms"
    verbose_name = "Communications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every process: updates leave for their readers (receivers), and the incident page's
        # update form drafts from the communication templates (incidents.drafts).
        from incidents.drafts import register_drafter

        from . import receivers  # noqa: F401
        from .models import TemplateKind
        from .status_cache import watch

        def draft(kind, incident, *, now=None, next_update_at=None):
            from .templating import render_for  # the templating module imports models
            return render_for(kind, incident, now=now, next_update_at=next_update_at)

        register_drafter(kinds=list(TemplateKind.choices), draft=draft)
        watch()  # the status page's cached versions move with every change it may show
