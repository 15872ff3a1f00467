"""Slack's request signing: https://api.slack.com/authentication/verifying-requests-from-slack.

Slack signs each request with the app's signing secret: ``X-Slack-Signature`` is ``v0=`` and
the hex HMAC-SHA256 of ``v0:{X-Slack-Request-Timestamp}:{raw body}``. A timestamp more than
five minutes from now (either way) is refused, so a captured request cannot be replayed later;
within the window, another body under the same signature fails the HMAC.
"""

import hashlib
import hmac
import time

REPLAY_WINDOW_SECONDS = 5 * 60


class Unverified(Exception):
    """The request is not provably from Slack; the message says why (for the 401 body)."""


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` Slack would send for ``body`` at ``timestamp``."""
    base = b"v0:" + timestamp.encode("ascii", "replace") + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(*, secret: str, timestamp: str | None, given: str | None, body: bytes, now: float | None = None) -> None:
    """Raise Unverified unless ``given`` is Slack's signature of ``body`` at a ``timestamp`` within five minutes."""
    if not given:
        raise Unverified("The X-Slack-Signature header is missing.")
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unverified("The X-Slack-Request-Timestamp header is missing or not a Unix time.")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise Unverified("The request timestamp is more than 5 minutes from Vigil's clock; "
                         "check the clocks, or this is a replayed request.")
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise Unverified("The X-Slack-Signature does not match; check SLACK_SIGNING_SECRET against the Slack app's "
                         "Signing Secret (Basic Information).")
