"""One class per medium; ``channel_for(kind)`` picks it. A channel sends one ``Notification``.

``send(notification)`` returns the name of the provider that took the
message (or "") and raises ``DeliveryError`` when it could not; ``retry``
says whether trying again later may help (a timeout or a 5xx, not a 400).
"""

from importlib import import_module


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry: bool = True):
        super().__init__(message)
        self.retry = retry


CHANNELS = {
    "email": "paging.channels.email.EmailChannel",
    "slack": "paging.channels.slack.SlackChannel",
    "webhook": "paging.channels.webhook.WebhookChannel",
    "sms": "paging.channels.sms.SmsChannel",
    "voice": "paging.channels.voice.VoiceChannel",
}


def channel_for(kind: str):
    path = CHANNELS.get(kind)
    if path is None:
        raise DeliveryError(f"No channel delivers {kind!r}", retry=False)
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)()
