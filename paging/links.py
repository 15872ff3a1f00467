"""Signed, expiring one-click acknowledge links carried by every page.

The link names the notification, so following it acknowledges as the person
it was sent to; ``django.core.signing`` makes it unforgeable and
``PAGING_ACK_LINK_HOURS`` (default 24) makes it expire.
"""

from django.conf import settings
from django.core import signing

from core.links import site_url

SALT = "paging.ack"


def ack_token(notification_id: int) -> str:
    return signing.dumps(notification_id, salt=SALT, compress=False)


def ack_url(notification_id: int) -> str:
    return f"{site_url()}/paging/ack/{ack_token(notification_id)}/"


def read_ack_token(token: str) -> int:
    """The notification id in ``token``; raises ``signing.BadSignature`` (or ``SignatureExpired``)."""
    value = signing.loads(token, salt=SALT, max_age=settings.PAGING_ACK_LINK_HOURS * 3600)
    if not isinstance(value, int):
        raise signing.BadSignature("not an acknowledge link")
    return value
