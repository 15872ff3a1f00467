"""System checks that stop Vigil from starting in a state where every page would fail."""

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core import checks
from django.core.management.base import SystemCheckError


# A deployment check (`manage.py check --deploy`), so collectstatic and migrate still run before it
# holds; gunicorn runs it itself through config.wsgi.
@checks.register(checks.Tags.staticfiles, deploy=True)
def static_manifest_exists(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With DEBUG off, pages name their CSS and scripts through collectstatic's manifest.

    Without it every page answers 500 ("Missing staticfiles manifest entry"),
    so the process refuses to start instead, naming the command that fixes it.
    """
    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestFilesMixin):
        return []
    if staticfiles_storage.manifest_storage.exists(staticfiles_storage.manifest_name):
        return []
    return [checks.Error(
        f"Static files are not collected: {settings.STATIC_ROOT}/{staticfiles_storage.manifest_name} is missing, "
        "and with DEBUG=0 every page would fail without it.",
        hint="Run `python manage.py collectstatic --noinput` (again after every upgrade), then start Vigil.",
        id="vigil.E001",
    )]


def refuse_to_start_on_errors() -> None:
    """Run the checks above where Django does not (gunicorn, celery): raise on any error."""
    errors = [message for message in static_manifest_exists() if message.is_serious()]
    if errors:
        raise SystemCheckError("\n".join(f"{e.id}: {e.msg}\nHINT: {e.hint}" for e in errors))
