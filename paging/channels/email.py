"""E-mail through Django's e-mail framework (``EMAIL_*`` settings: an SMTP relay in production).

SMTP's own answer decides the retry: a refused or dropped connection, a
timeout or a 4xx ("try again later") is retried; a 5xx (no such mailbox, the
relay refuses our sender or our login) is not, since sending the same thing
again gets the same answer. The connection times out after ``EMAIL_TIMEOUT``,
or ``PAGING_HTTP_TIMEOUT_SECONDS`` when that is not set. A notification's
``attachments`` (text files: a calendar invitation) go as parts of a
multipart message.
"""

import smtplib
from email.message import Message
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from . import DeliveryError


def _code_error(code: int, what: str) -> DeliveryError:
    return DeliveryError(f"The mail server {what}", retry=not 500 <= code < 600)


def _text(message) -> str:
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


def _part(attachment: dict) -> MIMEText:
    """A text attachment as its own MIME part, keeping its content type's parameters: a calendar invitation
    is ``text/calendar; method=REQUEST``, which mail clients offer to accept or decline."""
    header = Message()
    header["Content-Type"] = attachment["content_type"]
    if header.get_content_maintype() != "text":
        raise DeliveryError(f"Cannot attach {attachment['filename']!r} ({header.get_content_type()}): "
                            "only text files", retry=False)
    part = MIMEText(attachment["content"], header.get_content_subtype(), "utf-8")
    for name, value in header.get_params()[1:]:
        if name.lower() != "charset":
            part.set_param(name, value)
    part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
    return part


class EmailChannel:
    def send(self, notification) -> str:
        message = EmailMessage(
            subject=notification.subject, body=notification.body, from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.address],
            headers={**(notification.headers or {}),
                     "X-Vigil-Notification": str(notification.pk), "Auto-Submitted": "auto-generated"},
            connection=get_connection(timeout=settings.EMAIL_TIMEOUT or settings.PAGING_HTTP_TIMEOUT_SECONDS),
        )
        for attachment in notification.attachments or []:
            message.attach(_part(attachment))  # the message goes out as multipart/mixed
        try:
            sent = message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()), (550, b""))
            raise _code_error(code, f"refused {notification.address}: {code} {_text(reason)}") from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, login refused, …
            raise _code_error(exc.smtp_code, f"answered {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused or dropped connection, timeout, TLS
            raise DeliveryError(f"Could not reach the mail server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: "
                                f"{type(exc).__name__}: {exc}", retry=True) from None
        if not sent:
            raise DeliveryError(f"The mail backend sent nothing to {notification.address}", retry=False)
        return "smtp"
