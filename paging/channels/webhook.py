"""Outgoing webhooks: a signed JSON POST to the URL a person gave as a contact method.

The body::

    {"id": 42, "kind": "page", "subject": "[SEV2] INC-2026-0042 Checkout is failing",
     "text": "…the message…",
     "incident": {"number": "INC-2026-0042", "title": "Checkout is failing", "severity": "SEV2",
                  "status": "triggered", "url": "https://vigil.example.com/incidents/INC-2026-0042/"},
     "ack_url": "https://vigil.example.com/paging/ack/…/", "sent_at": "2026-03-09T08:00:00Z"}

``incident`` and ``ack_url`` are null for messages about no incident (a test,
a hand-off). The headers say who sent it and when:

- ``X-Vigil-Timestamp``: Unix seconds when it was signed;
- ``X-Vigil-Signature``: ``v1=`` and ``sign(secret, timestamp, body)``, the hex
  HMAC-SHA256 of ``"<timestamp>.<body bytes>"`` keyed by the contact method's
  secret (shown to its owner on their profile);
- ``X-Vigil-Delivery``: the notification id, the same on every retry, so a
  receiver can drop a duplicate.

A 2xx is a delivery; a 408, 429, 5xx or timeout is retried; any other answer is not.
"""

import hashlib
import hmac
import json
from datetime import UTC
from urllib.parse import urlsplit

from django.utils import timezone

from ..links import ack_url
from ..services.messages import incident_url
from . import DeliveryError, http


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``b"<timestamp>." + body`` keyed by ``secret`` (``X-Vigil-Signature: v1=<this>``)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def payload(notification, *, sent_at) -> dict:
    incident = notification.incident
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "subject": notification.subject,
        "text": notification.body,
        "incident": None if incident is None else {
            "number": incident.number, "title": incident.title, "severity": incident.severity.name,
            "status": incident.status, "url": incident_url(incident),
        },
        "ack_url": ack_url(notification.pk) if notification.kind == "page" and incident is not None else None,
        "sent_at": sent_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "its address"
    except ValueError:  # an unbalanced [ in the host
        return "its address"


class WebhookChannel:
    def send(self, notification) -> str:
        url = notification.address.strip()
        what = f"The webhook at {_host(url)}"  # not the whole URL: it may hold a secret
        method = notification.contact_method
        if method is None or not method.secret:
            raise DeliveryError("The webhook's contact method was removed: there is no secret to sign with",
                                retry=False)
        now = timezone.now()
        body = json.dumps(payload(notification, sent_at=now), separators=(",", ":")).encode()
        timestamp = int(now.timestamp())
        response = http.post(url, what=what, content=body, headers={
            "Content-Type": "application/json",
            "X-Vigil-Timestamp": str(timestamp),
            "X-Vigil-Signature": f"v1={sign(method.secret, timestamp, body)}",
            "X-Vigil-Delivery": str(notification.pk),
        })
        error = http.refusal(response, what=what)
        if error is not None:
            raise error
        return ""
