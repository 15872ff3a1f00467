"""A review meeting's calendar invitation (iCalendar through the ``icalendar`` library) and its e-mail.

iTIP (RFC 5546) as calendars expect it: ``METHOD:REQUEST`` invites, and a later REQUEST with the same
``UID`` (the meeting's ``uid``) and a higher ``SEQUENCE`` moves the event; ``METHOD:CANCEL`` with a
higher ``SEQUENCE`` removes it. Times are in UTC; each attendee's e-mail says them in their own zone.
"""

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.dateformat import format as date_format
from icalendar import Calendar, Event, vCalAddress

from core.links import site_url

REQUEST, CANCEL = "REQUEST", "CANCEL"
SUBJECTS = {"": "Invitation", "moved": "Moved", "changed": "Updated"}


def postmortem_url(postmortem) -> str:
    return f"{site_url()}/postmortems/{postmortem.pk}/"


def title(meeting) -> str:
    incident = meeting.postmortem.incident
    return f"Postmortem review: {incident.number} {incident.title}"


def ends_at(meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes)


def _address(user, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = user.display_name
    if role:
        address.params.update({"ROLE": role, "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE",
                               "CUTYPE": "INDIVIDUAL"})
    return address


def _organizer(meeting) -> vCalAddress:
    if meeting.organizer is not None and meeting.organizer.email:
        return _address(meeting.organizer)
    name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name or "Vigil"
    return address


def calendar(meeting, *, method: str, attendees, now: datetime) -> str:
    """The .ics text of ``meeting`` for ``method`` (REQUEST or CANCEL), naming ``attendees``."""
    cal = Calendar()
    cal.add("prodid", "-//Vigil//Postmortem review//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    event = Event()
    event.add("uid", str(meeting.uid))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", ends_at(meeting).astimezone(UTC))
    event.add("summary", title(meeting))
    event.add("description", f"{title(meeting)}\n\nRead the postmortem before the meeting: "
                             f"{postmortem_url(meeting.postmortem)}")
    event.add("url", postmortem_url(meeting.postmortem))
    if meeting.location:
        event.add("location", meeting.location)
    event.add("organizer", _organizer(meeting))
    for person in attendees:
        event.add("attendee", _address(person, "REQ-PARTICIPANT"))
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    cal.add_component(event)
    return cal.to_ical().decode()


def attachment(ics: str, method: str) -> dict:
    """The invitation as ``paging``'s e-mail channel attaches it (``Notification.attachments``)."""
    return {"filename": "invite.ics" if method == REQUEST else "cancel.ics",
            "content_type": f"text/calendar; method={method}", "content": ics}


def when_for(meeting, person) -> str:
    """The meeting's time as ``person`` reads it, labelled with their zone (and UTC when that differs)."""
    zone = ZoneInfo(person.timezone or "UTC")
    start, end = meeting.starts_at.astimezone(zone), ends_at(meeting).astimezone(zone)
    text = f"{date_format(start, 'D j M Y H:i')}–{date_format(end, 'H:i')} {zone.key}"
    if zone.key != "UTC":
        text += f" ({date_format(meeting.starts_at.astimezone(UTC), 'H:i')} UTC)"
    return text


def email(meeting, person, *, method: str, change: str = "") -> tuple[str, str]:
    """Subject and text of the e-mail carrying the invitation to ``person``; ``change`` is "" for a new
    meeting, "moved" (its time) or "changed" (its place or people)."""
    incident = meeting.postmortem.incident
    if method == CANCEL:
        subject = f"Cancelled: {title(meeting)}"
        first = f"The review meeting of the postmortem of {incident.number} on {when_for(meeting, person)} is cancelled."
    else:
        subject = f"{SUBJECTS[change]}: {title(meeting)}"
        opening = f"The review meeting has {change}" if change else "You are invited to review the postmortem"
        first = f"{opening} of {incident.number} ({incident.severity.name}) {incident.title}."
    lines = [first]
    if method != CANCEL:
        lines += ["", f"When: {when_for(meeting, person)} ({meeting.duration_minutes} min)"]
        if meeting.location:
            lines.append(f"Where: {meeting.location}")
        if meeting.organizer is not None:
            lines.append(f"Organiser: {meeting.organizer.display_name}")
        lines += ["", "Read the postmortem before the meeting:"]
    lines.append(postmortem_url(meeting.postmortem))
    return subject, "\n".join(lines)
