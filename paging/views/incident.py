"""Paging on the incident page: the on-call panel, and paging someone from it.

The panel is registered with ``incidents.panels`` (``PagingConfig.ready``
imports this module): who is on call for the incident's team and its
services' teams, where its escalation stands, every page sent, its
responders, and the "Page" form. Its live part refreshes itself every 15 s
(``incident-paging``, a fragment for htmx). ``POST /incidents/<number>/page/``
pages through ``paging.services.pages.page``; the people paged become
responders, who may then open and work that incident.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident
from incidents.panels import register_incident_panel
from incidents.services import can_work
from incidents.views.common import humanize
from incidents.views.common import page as login_page
from incidents.views.incident import render_incident

from ..forms.incident import PageForm
from ..queries import (
    escalation_of,
    escalation_state,
    notifications_of,
    on_call_for_incident,
    page_targets,
    paged_responders,
    responders_of,
)
from ..services.pages import page

# The panel shows the latest pages; the API lists them all.
PANEL_PAGES = 50


def _incident(request, number) -> Incident:
    # Another team's incident (one the reader does not respond to) does not exist for them: 404.
    return get_object_or_404(Incident.objects.visible_to(request.user).select_related("team", "severity"),
                             number=number)


def _live_context(request, incident) -> dict:
    """The panel's refreshing part; a constant number of queries, however many pages were sent."""
    now = timezone.now()
    run = escalation_of(incident)
    pages = notifications_of(incident).order_by("-created_at", "-id")
    shown = list(pages[:PANEL_PAGES + 1])
    escalation = escalation_state(run) if run is not None else None
    return {
        "incident": incident,
        "now": now,
        "on_call": on_call_for_incident(incident, at=now),
        "escalation": escalation,
        "next_in": humanize(escalation.next_at - now) if escalation and escalation.next_at else "",
        "pages": shown[:PANEL_PAGES],
        "more_pages": len(shown) > PANEL_PAGES,
        "responders": list(responders_of(incident)),
    }


def incident_panel(request, incident) -> tuple[str, dict] | None:
    """The paging panel of the incident page (``incidents.panels``)."""
    context = _live_context(request, incident)
    context["can_page"] = can_work(request.user, incident)
    if context["can_page"]:
        # A refused page leaves its bound form (with the errors) on the request: incident_page below.
        context["form"] = getattr(request, "paging_page_form", None) or PageForm(targets=page_targets(at=context["now"]))
    return "paging/_incident_panel.html", context


register_incident_panel(incident_panel)


@login_page
@require_GET
def incident_paging(request, number):
    """The panel's live part, for its 15-second htmx poll; without htmx, the incident page."""
    incident = _incident(request, number)
    if not request.htmx:
        return redirect(reverse("incident-detail", args=[incident.number]) + "#paging")
    return render(request, "paging/_incident_panel_live.html", _live_context(request, incident))


@login_page
@require_POST
def incident_page(request, number):
    """Page a person, a team's on-call, a whole team, a rotation or a policy about this incident.

    A plain form post: on success back to the incident page with a message; refused (an unknown
    target, nobody on call) the incident page again with the form's errors, as a 400. The service
    refuses (403) anyone who may not work the incident.
    """
    incident = _incident(request, number)
    form = PageForm(request.POST, targets=page_targets(at=timezone.now()))
    if form.is_valid():
        now = timezone.now()
        try:
            notifications = page(incident=incident, targets=form.targets(), by=request.user,
                                 message=form.cleaned_data["message"], now=now)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            names = ", ".join(r.user.display_name for r in paged_responders(incident, by=request.user, at=now))
            messages.success(request, f"Paged {names or 'nobody'}: {len(notifications)} message"
                                      f"{'s' if len(notifications) != 1 else ''} on the way. "
                                      "They are responders now, and may open and work this incident.")
            # The form posts to …#paging, so a refusal shows the panel with its errors; a success goes
            # back to the top of the page, where the message is.
            return redirect(reverse("incident-detail", args=[incident.number]) + "#incident-body")
    request.paging_page_form = form
    return render_incident(request, incident, status=400)


urlpatterns = [
    path("incidents/<str:number>/page/", incident_page, name="incident-page"),
    path("incidents/<str:number>/paging/", incident_paging, name="incident-paging"),
]
