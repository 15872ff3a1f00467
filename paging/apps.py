from django.apps import AppConfig


class PagingConfig(AppConfig):
    name = "paging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Runs in every process (web, worker, beat): incidents' signals start and stop
        # escalations, a new person gets their account e-mail as a contact method, and
        # oncall's hand-offs, shift reminders and swap e-mails become notifications.
        from oncall.hooks import register_mailer

        # queries registers the paging timeline source; receivers connects the signal receivers.
        from . import queries, receivers  # noqa: F401
        from .services.notify import email_person

        register_mailer(email_person)
        from .views import incident  # noqa: F401 — registers the incident page's paging panel
