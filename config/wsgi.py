import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve if every page would fail (vigil.E001).
from core.checks import refuse_to_start_on_errors  # noqa: E402 — needs the app registry loaded above

refuse_to_start_on_errors()
