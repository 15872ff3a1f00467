"""What every incident page shares: login, and how an incident stands against its targets."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django_htmx.http import HttpResponseClientRedirect


def page(view):
    """Login required. (Dates render, and form dates parse, in the reader's own time zone on every
    page: ``config.middleware.ReaderTimeZone``.)

    An htmx request whose session has expired (a dashboard polling overnight) is sent to the login
    page as a whole page: a plain redirect would be followed by htmx and the login form swapped into
    the fragment.
    """
    protected = login_required(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.htmx and not request.user.is_authenticated:
            back = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(redirect_to_login(back).url)
        return protected(request, *args, **kwargs)

    return wrapped


def humanize(delta: timedelta) -> str:
    """12 min, 3 h 5 min, 2 d 4 h: precise enough for a responder, short enough for a list."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@dataclass
class Standing:
    """One target of an incident: 'ack overdue by 12 min' or '4 min left to ack'."""

    target: str  # "ack" or "resolve"
    overdue: bool
    by: timedelta

    @property
    def label(self) -> str:
        if self.overdue:
            return f"{self.target} overdue by {humanize(self.by)}"
        return f"{humanize(self.by)} left to {self.target}"


def standings(incident, now: datetime) -> list[Standing]:
    """Where an open incident stands against its severity's targets, measured from its creation.

    The acknowledge target counts only until someone acknowledges; the resolve
    target until it is resolved. Reads only the incident and its (selected) severity.
    """
    result = []
    severity = incident.severity
    if incident.acknowledged_at is None and incident.is_open:
        due = incident.created_at + severity.acknowledge_target
        result.append(Standing("ack", now > due, abs(now - due)))
    if incident.is_open:
        due = incident.created_at + severity.resolve_target
        result.append(Standing("resolve", now > due, abs(now - due)))
    return result


def annotate_clock(incidents, now: datetime | None = None):
    """Attach age and standings to each incident of a list (no queries)."""
    now = now or timezone.now()
    for incident in incidents:
        incident.age = humanize(now - incident.created_at)
        incident.standings = standings(incident, now)
    return incidents


_HEADING = re.compile(r"<(/?)h([1-6])\b")


def demote_headings(html: SafeString, levels: int = 2) -> SafeString:
    """Shift the headings of already-sanitised HTML down, so a runbook's '# Title' is not a page title.

    Only tag names change (h1 → h3), so the sanitiser's guarantees still hold.
    """
    return mark_safe(_HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + levels, 6)}", str(html)))  # noqa: S308
