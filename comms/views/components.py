"""The status page's components editor (/comms/components/), for the people who run a team's status page.

Thin: the list reads ``queries.components_by_team``; the forms call ``comms.services``. Anyone logged in
sees the components of their own teams (staff: every team's), read-only; a team's leads and managers
(and staff) add, change and delete them. Another team's component, or one's own under another team's
address, does not exist here (404). Plain forms, no JavaScript.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from incidents.forms import apply_service_errors
from incidents.views.common import page
from oncall.models import Team
from oncall.permissions import require_team_manager

from .. import queries, services
from ..forms_components import ComponentForm
from ..models import Component

TO = "change its status page"


def _team(request, slug) -> Team:
    team = Team.objects.visible_to(request.user).filter(slug=slug).distinct().first()
    if team is None:
        raise Http404("No such team among yours.")
    return team


def _component(request, slug, pk) -> tuple[Team, Component]:
    team = _team(request, slug)
    component = Component.objects.filter(team=team, pk=pk).prefetch_related("services").first()
    if component is None:
        raise Http404("No such component on this team's status page.")
    return team, component


def _list_url(team: Team) -> str:
    return reverse("comms:components") + f"#team-{team.slug}"


@page
@require_GET
def component_list(request):
    """Every team the reader can see, its components and their statuses; links to change them for those who may."""
    return render(request, "comms/components.html", {"teams": queries.components_by_team(request.user)})


@page
@require_http_methods(["GET", "POST"])
def component_new(request, team_slug):
    team = _team(request, team_slug)
    require_team_manager(request.user, team, to=TO)
    form = ComponentForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            component = services.create_component(team=team, by=request.user, **form.component_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Component {component.name} added to the status page of {team.name}.")
            return redirect(_list_url(team))
    return render(request, "comms/components_form.html", {"team": team, "form": form, "component": None})


@page
@require_http_methods(["GET", "POST"])
def component_edit(request, team_slug, pk):
    team, component = _component(request, team_slug, pk)
    require_team_manager(request.user, team, to=TO)
    form = ComponentForm(request.POST or None, team=team, component=component)
    if request.method == "POST" and form.is_valid():
        try:
            component = services.update_component(component=component, by=request.user, **form.component_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Component {component.name} saved.")
            return redirect(_list_url(team))
    return render(request, "comms/components_form.html", {"team": team, "form": form, "component": component})


@page
@require_http_methods(["GET", "POST"])
def component_delete(request, team_slug, pk):
    """A confirmation page; the POST takes the component off the status page."""
    team, component = _component(request, team_slug, pk)
    require_team_manager(request.user, team, to=TO)
    if request.method == "POST":
        services.delete_component(component=component, by=request.user)
        messages.success(request, f"Component {component.name} deleted from the status page of {team.name}.")
        return redirect(_list_url(team))
    return render(request, "comms/components_delete.html", {"team": team, "component": component})
