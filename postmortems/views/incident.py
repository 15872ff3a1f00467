"""Postmortems on the incident page: the postmortem panel, and the actions it offers.

The panel is registered with ``incidents.panels`` (``PostmortemsConfig.ready`` imports this module): the
incident's postmortem (status, due, a link) or a button to start one once it is resolved, its action
items with a form to add one (during the response too), and, while a required postmortem keeps the
incident from closing, why — with a staff-only "close anyway" form whose reason goes on the timeline.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.guards import ClosingRefused
from incidents.models import Incident, IncidentStatus
from incidents.panels import register_incident_panel
from incidents.services import IllegalTransition, can_work, transition_incident
from incidents.views.common import page
from incidents.views.incident import render_incident

from ..forms import ActionItemForm, CloseAnywayForm, apply_service_errors, form_errors
from ..models import Postmortem
from ..queries import (
    action_items_for,
    assignable_people,
    is_overdue,
    policy_for,
    sort_action_items,
    unpublished_postmortem,
)
from ..services import PostmortemExists, create_action_item, start_postmortem

# The panel shows the first items (active first); the postmortem's page lists them all.
PANEL_ITEMS = 10


class IncidentActionItemForm(ActionItemForm):
    prefix_ids = "incident_action"


def _incident(request, number) -> Incident:
    # Another team's incident (one the reader does not respond to) does not exist for them: 404.
    return get_object_or_404(Incident.objects.visible_to(request.user).select_related("team", "severity"),
                             number=number)


def incident_panel(request, incident) -> tuple[str, dict]:
    """The postmortem panel of the incident page (``incidents.panels``); a constant number of queries."""
    now = timezone.now()
    postmortem = Postmortem.objects.filter(incident=incident).select_related("owner").first()
    items = list(sort_action_items(action_items_for(request.user).filter(incident=incident))[:PANEL_ITEMS + 1])
    for item in items:
        item.overdue = item.is_overdue(now)
    working = can_work(request.user, incident)
    refusal = unpublished_postmortem(incident) if incident.status == IncidentStatus.RESOLVED else None
    context = {
        "incident": incident,
        "postmortem": postmortem,
        "overdue": postmortem is not None and is_overdue(postmortem, now),
        "items": items[:PANEL_ITEMS],
        "more_items": len(items) > PANEL_ITEMS,
        "can_work": working,
        "can_start": working and postmortem is None and not incident.is_open,
        "due_when_resolved": postmortem is None and policy_for(incident.severity).required,
        "close_refusal": refusal,
        "can_override": refusal is not None and request.user.is_staff,
    }
    if working:
        context["item_form"] = getattr(request, "postmortems_item_form", None) or IncidentActionItemForm(
            people=assignable_people(incident, request.user))
    if context["can_override"]:
        context["override_form"] = getattr(request, "postmortems_override_form", None) or CloseAnywayForm()
    return "postmortems/_incident_panel.html", context


register_incident_panel(incident_panel)


def _back(incident, anchor="postmortem"):
    return redirect(reverse("incident-detail", args=[incident.number]) + f"#{anchor}")


@page
@require_POST
def incident_postmortem_start(request, number):
    """Start the incident's postmortem (any severity, once resolved), then on to it."""
    incident = _incident(request, number)
    try:
        postmortem = start_postmortem(incident=incident, by=request.user)
    except PostmortemExists as exc:
        messages.error(request, exc.message)
        return _back(incident)
    except ValidationError as exc:
        messages.error(request, form_errors(exc))
        return _back(incident)
    messages.success(request, f"Postmortem of {incident.number} started, prefilled from the incident.")
    return redirect("postmortem-detail", pk=postmortem.pk)


@page
@require_POST
def incident_action_item_add(request, number):
    """An action item straight from the incident page, during the response or after."""
    incident = _incident(request, number)
    form = IncidentActionItemForm(request.POST, people=assignable_people(incident, request.user))
    if form.is_valid():
        try:
            item = create_action_item(incident=incident, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Action item added: {item.title}.")
            return _back(incident)
    request.postmortems_item_form = form
    return render_incident(request, incident, status=400)


@page
@require_POST
def incident_close_anyway(request, number):
    """Staff: close an incident although its required postmortem is not published; the reason is recorded."""
    incident = _incident(request, number)
    form = CloseAnywayForm(request.POST)
    if form.is_valid():
        try:
            incident = transition_incident(incident=incident, transition="close", by=request.user,
                                           override_reason=form.cleaned_data["reason"])
        except IllegalTransition as exc:
            messages.error(request, str(exc))
        except ClosingRefused as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, form_errors(exc))
        else:
            messages.success(request, f"{incident.number} is closed; the reason is on its timeline.")
        return _back(incident, "incident-body")
    request.postmortems_override_form = form
    return render_incident(request, incident, status=400)


urlpatterns = [
    path("incidents/<str:number>/postmortem/", incident_postmortem_start, name="incident-postmortem-start"),
    path("incidents/<str:number>/action-items/", incident_action_item_add, name="incident-action-item-add"),
    path("incidents/<str:number>/close-anyway/", incident_close_anyway, name="incident-close-anyway"),
]
