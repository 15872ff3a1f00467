"""Acknowledging an incident by texting back a page's reply code.

Every SMS or voice page carries a short code (``Notification.reply_code``).
A text from the number the page went to whose body is that code acknowledges
the page's incident as the person paged, exactly as the button would
(``incidents.services.acknowledge_incident``: locked, once, on the timeline).
The code is looked up among pages sent to that number in the last
``PAGING_ACK_LINK_HOURS``, the most recent first, so a code can't be guessed
from another phone and an old page can't be acknowledged by accident.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, IncidentStatus
from incidents.services import IllegalTransition, acknowledge_incident

from ..channels.sms import E164
from ..models import Notification

# "1234", " 1234. ", "ack 1234", "ACK: 1234"
REPLY = re.compile(r"\s*(?:ack(?:nowledge)?\W*)?(\d{4,8})[\s.!]*", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    """What came of a text: ``outcome`` is acknowledged, already, unknown or refused; ``text`` is the answer."""

    outcome: str
    text: str
    incident: Incident | None = None


def _unknown(code: str | None) -> Reply:
    hours = settings.PAGING_ACK_LINK_HOURS
    if code is None:
        return Reply("unknown", "Vigil: to acknowledge an incident, reply with the code from its page "
                                "(e.g. 1234).")
    return Reply("unknown", f"Vigil: no page sent to this number in the last {hours} hours has the code {code}. "
                            "Check the code, or acknowledge from the page's link.")


def acknowledge_by_reply(*, from_number: str, body: str, now: datetime | None = None) -> Reply:
    """Acknowledge the incident of the most recent page to ``from_number`` whose reply code ``body`` is.

    Never raises for what a sender wrote: an unknown code, another number, an
    incident already acknowledged or resolved all come back as a ``Reply``
    saying so. Locks the incident (through ``acknowledge_incident``).
    """
    now = now or timezone.now()
    match = REPLY.fullmatch(body or "")
    number = (from_number or "").strip()
    if match is None:
        return _unknown(None)
    code = match.group(1)
    if not E164.fullmatch(number):
        return _unknown(code)
    since = now - timedelta(hours=settings.PAGING_ACK_LINK_HOURS)
    with transaction.atomic():
        page = (Notification.objects
                .filter(kind=Notification.Kind.PAGE, channel__in=["sms", "voice"], address=number, reply_code=code,
                        incident__isnull=False, created_at__gte=since)
                .select_related("incident", "user").order_by("-created_at", "-id").first())
        if page is None:
            return _unknown(code)
        incident, person = page.incident, page.user
        if incident.status != IncidentStatus.TRIGGERED:
            return _already(incident, incident.status)
        if not person.is_active:
            return Reply("refused", f"Vigil: {person.display_name}'s account is deactivated; "
                                    f"{incident.number} was not acknowledged.", incident)
        try:
            incident = acknowledge_incident(incident=incident, by=person, note="Acknowledged by SMS reply", now=now)
        except IllegalTransition as exc:  # acknowledged (or resolved) a moment ago by someone else
            return _already(incident, exc.status)
        except PermissionDenied:
            return Reply("refused", f"Vigil: {person.display_name} may no longer work {incident.number}; "
                                    "it was not acknowledged.", incident)
    return Reply("acknowledged", f"Vigil: acknowledged {incident.number} ({incident.title[:80]}) as "
                                 f"{person.display_name}. Escalation stopped.", incident)


def _already(incident: Incident, status: str) -> Reply:
    return Reply("already", f"Vigil: {incident.number} is already {status}; nothing to acknowledge.", incident)
