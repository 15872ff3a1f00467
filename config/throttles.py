"""The API's throttles (DRF), per user and per anonymous address, with rates read from settings.

Not in ``config.api``: DRF imports these while ``rest_framework.views`` loads,
which ``config.api`` itself imports.
"""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .proxy import client_ip


class _RetryAfter:
    """A 429 always says when to retry (API.md: ``Retry-After``).

    DRF's ``wait()`` gives up (None, so no header) when more requests are on record than the rate
    now allows: the rate was lowered, or two processes raced past the count. Then the record must
    shrink below the rate, and the wait is until the last entry that must go has aged out.
    """

    def wait(self):
        wait = super().wait()
        if wait is None and self.history:
            last_to_go = self.history[min(self.num_requests, len(self.history)) - 1]  # newest first
            return max(self.duration - (self.now - last_to_go), 1)
        return wait


class AnonThrottle(_RetryAfter, AnonRateThrottle):
    """Callers without credentials, by address: ``API_THROTTLE_ANON``."""

    def get_rate(self):
        # Read per request (DRF reads its rate table once, at import), so a changed setting applies.
        return settings.API_THROTTLE_ANON

    def get_ident(self, request):
        return client_ip(request)


class UserThrottle(_RetryAfter, UserRateThrottle):
    """Each user, whether by token or session: ``API_THROTTLE_USER``."""

    def get_rate(self):
        return settings.API_THROTTLE_USER

    def get_ident(self, request):
        return client_ip(request)
