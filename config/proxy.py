"""The client's address, as far as Vigil may believe it.

Without ``TRUSTED_PROXY_HEADERS`` it is the direct peer (``REMOTE_ADDR``): any
client can write ``X-Forwarded-For``. With it, the proxy in front of Vigil
appends the address it saw to that header, so the last entry is the one the
proxy vouches for (earlier ones came from the client and may be invented).
"""

from django.conf import settings


def client_ip(request) -> str:
    if settings.TRUSTED_PROXY_HEADERS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")
