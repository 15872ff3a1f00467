"""Absolute links to Vigil's own pages: ``SITE_URL``, else where a request came in, else the embedded default."""

from django.conf import settings

# What `make run` serves; e-mails and feeds built without a request (by Celery) fall back to it
# when SITE_URL is not set. Production sets SITE_URL (README, Configuration).
EMBEDDED_SITE_URL = "http://127.0.0.1:8000"


def site_url(request=None) -> str:
    """The scheme and host to put before a path, without a trailing slash.

    ``SITE_URL`` when it is set; otherwise, with a request, the address the
    reader used to reach Vigil; otherwise ``EMBEDDED_SITE_URL``.
    """
    if settings.SITE_URL:
        return settings.SITE_URL
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return EMBEDDED_SITE_URL
