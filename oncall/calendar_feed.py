"""iCalendar feeds of shifts (the ``icalendar`` library), for a person or a team.

Events carry stable UIDs (rotation, start, person), UTC times and a
``REFRESH-INTERVAL`` hint, which Google Calendar and Outlook accept when the
feed URL is added as a subscription.
"""

from datetime import datetime, timedelta

from icalendar import Calendar, Event, vDuration

from core.links import site_url

from .schedule import Shift

PAST = timedelta(days=30)
FUTURE = timedelta(days=180)


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    return now - PAST, now + FUTURE


def build_calendar(name: str, shifts: list[Shift], now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Vigil//On-call//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for shift in shifts:
        rotation = shift.rotation
        event = Event()
        event.add("uid", f"vigil-{rotation.pk}-{shift.user.pk}-{shift.start:%Y%m%dT%H%M%SZ}@{_host()}")
        event.add("dtstamp", now)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        label = " (override)" if shift.override else ""
        event.add("summary", f"On call: {shift.user.display_name} · {rotation.team.name} {rotation.name}{label}")
        event.add("description", f"Layer {rotation.layer}. {site_url()}/oncall/teams/{rotation.team.slug}/")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


def _host() -> str:
    return site_url().split("://", 1)[-1].split("/", 1)[0] or "vigil"
