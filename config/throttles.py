"""The API's throttles (DRF), per user and per anonymous address, with rates read from settings.

Not in ``config.api``: DRF imports these while ``rest_framework.views`` loads,
which ``config.api`` itself imports.
"""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .proxy import client_ip


class AnonThrottle(AnonRateThrottle):
    """Callers without credentials, by address: ``API_THROTTLE_ANON``."""

    def get_rate(self):
        # Read per request (DRF reads its rate table once, at import), so a changed setting applies.
        return settings.API_THROTTLE_ANON

    def get_ident(self, request):
        return client_ip(request)


class UserThrottle(UserRateThrottle):
    """Each user, whether by token or session: ``API_THROTTLE_USER``."""

    def get_rate(self):
        return settings.API_THROTTLE_USER

    def get_ident(self, request):
        return client_ip(request)
