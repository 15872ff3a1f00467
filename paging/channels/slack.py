"""Slack: a direct message through the bot (``SLACK_BOT_TOKEN``), or a post to an incoming webhook.

The address is either a member id (``U…`` or ``W…``) — the bot calls
``chat.postMessage`` with it as the channel, which opens a direct message —,
a channel id (``C…``, or ``G…`` for an older private channel: a team's
channel, which the bot must have been invited to), or an incoming-webhook URL (``https://hooks.slack.com/services/…``),
which posts where the webhook was made for.

The Web API answers 200 even when it refuses (``{"ok": false, "error": …}``):
only ``"ok": true`` is a delivery. Rate limits and Slack's own troubles are
retried; a bad token, an unknown member or a missing scope are not (they need
a person to fix the configuration).
"""

import re

from django.conf import settings

from . import DeliveryError, http

MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,30}")
# Errors of chat.postMessage that say "later", not "never".
RETRY_ERRORS = {"ratelimited", "rate_limited", "service_unavailable", "internal_error", "fatal_error",
                "request_timeout", "team_added_to_org"}
# Errors a person fixes in Vigil's configuration or Slack's, with a hint saying which.
CONFIG_HINTS = {
    "not_authed": "set SLACK_BOT_TOKEN to the bot's token (xoxb-…)",
    "invalid_auth": "SLACK_BOT_TOKEN is not a valid token",
    "token_revoked": "the bot's token was revoked; set a new SLACK_BOT_TOKEN",
    "account_inactive": "the bot's token belongs to a deactivated app or user; set a new SLACK_BOT_TOKEN",
    "missing_scope": "give the bot the chat:write scope",
    "channel_not_found": "no member with this id in the bot's workspace, nor a channel; check the id",
    "not_in_channel": "invite the bot to the channel (/invite @bot in it)",
    "is_archived": "the channel is archived; set another one",
    "user_not_found": "no member with this id in the bot's workspace; check the contact method's member id",
}


def escape(text: str) -> str:
    """Slack's own escaping of message text: only &, < and > (so a title can't make a link or a mention)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_of(notification) -> str:
    return f"*{escape(notification.subject)}*\n{escape(notification.body)}"


class SlackChannel:
    def send(self, notification) -> str:
        address = notification.address.strip()
        if MEMBER_ID.fullmatch(address) or CHANNEL_ID.fullmatch(address):
            return self._direct_message(address, text_of(notification))
        if address.startswith(("https://", "http://")):
            return self._incoming_webhook(address, text_of(notification))
        raise DeliveryError(f"{address!r} is neither a Slack member id (U… or W…), a channel id (C…) nor an "
                            "incoming-webhook URL "
                            "(https://hooks.slack.com/services/…)", retry=False)

    def _direct_message(self, member: str, text: str) -> str:
        token = settings.SLACK_BOT_TOKEN
        if not token:
            raise DeliveryError(f"Slack member {member} can only be reached through a bot: set SLACK_BOT_TOKEN "
                                "(a bot token with chat:write), or use an incoming-webhook URL instead", retry=False)
        response = http.post(f"{settings.SLACK_API_URL}/chat.postMessage", what="Slack",
                             json={"channel": member, "text": text},
                             headers={"Authorization": f"Bearer {token}"})
        if not response.is_success:
            raise http.refusal(response, what="Slack")
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryError("Slack answered 200 without JSON", retry=True) from None
        if not isinstance(answer, dict):
            raise DeliveryError("Slack answered 200 with JSON that is not an object", retry=True)
        if answer.get("ok") is True:
            return "slack"
        error = str(answer.get("error") or "unknown_error")[:100]
        hint = CONFIG_HINTS.get(error)
        raise DeliveryError(f"Slack refused the message: {error}" + (f" ({hint})" if hint else ""),
                            retry=error in RETRY_ERRORS)

    def _incoming_webhook(self, url: str, text: str) -> str:
        what = "Slack's incoming webhook"
        error = http.refusal(http.post(url, what=what, json={"text": text}), what=what)
        if error is not None:
            raise error
        return "slack"
