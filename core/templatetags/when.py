"""``{% when instant %}``: an instant as the reader reads it, labelled with the reader's zone.

The one rule for times on pages: an instant is shown in the reader's zone
(``config.middleware.ReaderTimeZone`` activates the logged-in person's
``timezone`` for every page) and says which zone that is. Where the instant
belongs to a team whose clock reads differently, the team's reading follows
it, so a hand-off typed in the team's zone is recognisable::

    {% load when %}
    {% when shift.end %}                     Mon 2 Mar 13:00 Europe/Berlin
    {% when shift.end team.timezone %}       Mon 2 Mar 13:00 Europe/Berlin (12:00 UTC team time)
    {% when event.at fmt="j M H:i:s" %}      2 Mar 13:00:05 Europe/Berlin

The team's reading is left out when it is the same wall-clock reading (Oslo
and Berlin, or the reader's own zone); it gives the weekday too when the
date differs.
"""

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()

DEFAULT_FORMAT = "D j M H:i"


def _zone(value) -> tzinfo | None:
    if isinstance(value, tzinfo):
        return value
    if not value:
        return None
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


@register.simple_tag
def when(instant, team_zone=None, fmt=DEFAULT_FORMAT):
    """``instant`` in the current (reader's) zone, labelled; the team's reading beside it where it differs."""
    if not isinstance(instant, datetime):
        return date_format(instant, "D j M Y") if isinstance(instant, date) else ""
    reader = timezone.get_current_timezone()
    if timezone.is_naive(instant):
        instant = timezone.make_aware(instant, reader)
    here = instant.astimezone(reader)
    html = format_html('<time datetime="{}">{} <span class="tz">{}</span></time>',
                       instant.astimezone(UTC).isoformat(), date_format(here, fmt), _name(reader))
    team = _zone(team_zone)
    if team is not None:
        there = instant.astimezone(team)
        if there.replace(tzinfo=None) != here.replace(tzinfo=None):
            clock = "H:i:s" if "s" in fmt else "H:i"
            shown = date_format(there, clock if there.date() == here.date() else f"D {clock}")
            html += format_html(' <span class="team-time">({} {} team time)</span>', shown, _name(team))
    return html


@register.simple_tag
def reader_zone() -> str:
    """The zone pages are shown in: the reader's own (``User.timezone``), else UTC."""
    return _name(timezone.get_current_timezone())
