"""Voice calls through the same Twilio-compatible providers as SMS, in the same order.

A call is posted to ``…/Accounts/{account_sid}/Calls.json`` with ``To``,
``From`` and ``Twiml``: ``<Response><Say>…</Say></Response>`` reading the
message twice, without its links, and the reply code digit by digit ("to
acknowledge, text 1 2 3 4 back to this number"), since a link can't be heard.
"""

import re
from xml.sax.saxutils import escape

from .sms import SmsChannel

URL = re.compile(r"https?://\S+")
# XML 1.0 refuses these control characters even escaped.
UNSPEAKABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def spoken(notification) -> str:
    """What the call says: the message's lines without links, then the reply code digit by digit."""
    code = notification.reply_code
    lines = []
    for line in notification.body.splitlines():
        line = URL.sub("", line).strip()
        if line and not line.endswith(":") and not (code and code in line):
            lines.append(line if line.endswith((".", "!", "?")) else f"{line}.")
    text = " ".join(lines) or f"{notification.subject}."
    if code:
        text += f" To acknowledge, text {' '.join(code)} back to this number."
    return f"This is Vigil. {text}"


def twiml(notification) -> str:
    text = escape(UNSPEAKABLE.sub("", spoken(notification)))
    return f'<Response><Say loop="2">{text}</Say></Response>'


class VoiceChannel(SmsChannel):
    resource = "Calls.json"
    medium = "voice call"

    def form(self, notification, to: str, provider: dict) -> dict:
        return {"To": to, "From": provider["from"], "Twiml": twiml(notification)}
