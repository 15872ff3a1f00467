"""Integration keys never reach a log line.

Webhook and heartbeat keys travel in the URL path (``/api/v1/integrations/
webhook/<key>/``, ``/api/v1/heartbeats/<key>/``), and Django's request log,
runserver's and gunicorn's access logs all write paths. Every one of those
passes through ``redact``; an ``Authorization`` header logged by a custom
gunicorn format is dropped whole.
"""

import logging
import re

from gunicorn.glogging import Logger

KEY_IN_PATH = re.compile(r"(/(?:integrations/webhook|heartbeats)/)[^/?#\s\"']+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return KEY_IN_PATH.sub(rf"\g<1>{REDACTED}", text)


class RedactKeys(logging.Filter):
    """A logging filter: the record's message, with any key in a path replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class GunicornLogger(Logger):
    """gunicorn's logger, whose access-log atoms (request line, path, referer, environ) are redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if name == "{authorization}i":
                atoms[name] = REDACTED
            elif isinstance(value, str):
                atoms[name] = redact(value)
        return atoms
