"""Panels other apps add to the incident page's side column.

``incidents`` must not import the apps that lean on it, so an app that wants
a say on the incident page (paging's on-call panel: who is on call, the
escalation, the pages sent, the "Page" form) registers a function in its
``AppConfig.ready``::

    register_incident_panel(paging_panel)   # fn(request, incident) -> (template, context) | None

The incident page renders each panel's template with its context (plus the
request's: user, CSRF token, messages) in the order they were registered,
and leaves out a panel whose function returns None. A panel renders in a
constant number of queries, whatever the incident holds.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .models import Incident

IncidentPanel = Callable[[HttpRequest, Incident], tuple[str, dict] | None]
_panels: list[IncidentPanel] = []


def register_incident_panel(panel: IncidentPanel) -> None:
    """Add ``panel`` to every incident page (registering the same function twice adds it once)."""
    if panel not in _panels:
        _panels.append(panel)


def render_panels(request: HttpRequest, incident: Incident) -> list[SafeString]:
    """Each registered panel rendered for this reader and incident, in registration order."""
    rendered = []
    for panel in _panels:
        found = panel(request, incident)
        if found is not None:
            template, context = found
            # render_to_string escapes the context as any template does: the result is safe HTML.
            rendered.append(mark_safe(render_to_string(template, context, request=request)))  # noqa: S308
    return rendered
