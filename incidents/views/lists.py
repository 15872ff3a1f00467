"""The read-only pages: dashboard, incident list, services. Each runs a fixed number of queries."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from oncall.models import EscalationPolicy
from oncall.permissions import can_manage_team, require_team_manager

from ..forms import IncidentFilterForm, QuickDeclareForm, ServicePoliciesForm, apply_service_errors
from ..models import SeverityPolicy
from ..models.incident import OPEN_STATUSES
from ..queries import commander_of, incidents_for, services_for
from ..services import update_service
from ..services.incident import quick_declare
from .common import annotate_clock, demote_headings, humanize, page

PAGE_SIZE = 50


def _with_commander(incidents):
    # Reads the prefetched role assignments: no query per row.
    for incident in incidents:
        incident.commander = commander_of(incident)
    return incidents


@page
@require_http_methods(["GET", "HEAD", "POST"])
def dashboard(request):
    """Open incidents of the reader's teams (and those they respond to), most severe first, with their
    clocks; and the quick declare form.

    htmx polls it every 15 s for the open-incident list alone (``_open_incidents.html``). A POST is a
    quick declaration: declared, and with "I'm the commander" commanded and acknowledged by the
    declarer, then on to the new incident's page; a refused one shows the form again (400).
    """
    form = QuickDeclareForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = quick_declare(title=data["title"], severity=data["severity"], team=data["team"],
                                     by=request.user, commander=data["commander"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            commanded = " You are its commander; it is acknowledged." if data["commander"] else ""
            messages.success(request, f"{incident.number} declared.{commanded}")
            return redirect("incident-detail", number=incident.number)
    incidents = list(incidents_for(request.user).open().order_by("severity__rank", "-created_at", "-id"))
    annotate_clock(_with_commander(incidents))
    overdue = sum(1 for i in incidents if any(s.overdue for s in i.standings))
    groups: dict = {}
    for incident in incidents:  # already ordered by severity rank
        groups.setdefault(incident.severity, []).append(incident)
    groups_list = [
        {"severity": sev, "ack": humanize(sev.acknowledge_target), "resolve": humanize(sev.resolve_target),
         "incidents": rows}
        for sev, rows in groups.items()
    ]
    context = {"incidents": incidents, "groups": groups_list, "overdue": overdue, "quick_form": form}
    if request.htmx and request.method == "GET":
        return render(request, "incidents/_open_incidents.html", context)
    return render(request, "incidents/dashboard.html", context, status=400 if form.is_bound else 200)


@page
def incident_list(request):
    form = IncidentFilterForm(request.GET or None, user=request.user)
    incidents = incidents_for(request.user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["status"] == "open":
            incidents = incidents.open()
        elif data["status"]:
            incidents = incidents.filter(status=data["status"])
        if data["severity"]:
            incidents = incidents.filter(severity=data["severity"])
        if data["team"]:
            incidents = incidents.filter(team=data["team"])
        if data["service"]:
            incidents = incidents.filter(services=data["service"])
        if data["q"]:
            incidents = incidents.search(data["q"])  # the API's ?q= too
    incidents = incidents.order_by("-created_at", "-id")
    page_obj = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _with_commander(list(page_obj.object_list))
    annotate_clock(rows)
    # Keep the filters when following the pager's links.
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "incidents/incident_list.html", {
        "form": form, "page_obj": page_obj, "incidents": rows, "query": query.urlencode(),
    })


@page
def service_list(request):
    services = services_for(request.user).annotate(
        open_incidents=Count("incidents", filter=Q(incidents__status__in=OPEN_STATUSES), distinct=True)
    ).order_by("team__name", "name")
    return render(request, "incidents/service_list.html", {"services": services})


@page
@require_http_methods(["GET", "HEAD", "POST"])
def service_detail(request, slug):
    """A service, its runbook and recent incidents; its leads and managers choose its escalation policies here."""
    # Another team's service does not exist for this reader: 404, not 403.
    service = get_object_or_404(services_for(request.user).select_related("escalation_policy"), slug=slug)
    can_manage = can_manage_team(request.user, service.team)
    form = ServicePoliciesForm(service=service) if can_manage else None
    if request.method == "POST":
        require_team_manager(request.user, service.team, to="change its services")
        form = ServicePoliciesForm(request.POST, service=service)
        if form.is_valid():
            try:
                update_service(service=service, by=request.user, **form.service_kwargs())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "Escalation policies saved.")
                return redirect("service-detail", slug=service.slug)
    recent = _with_commander(list(incidents_for(request.user).filter(services=service)
                                  .order_by("-created_at", "-id")[:20]))
    annotate_clock(recent, timezone.now())
    service.runbook_rendered = demote_headings(service.runbook_html, levels=2)
    return render(request, "incidents/service_detail.html", {
        "service": service, "incidents": recent, "can_manage": can_manage, "policies_form": form,
        "by_severity": SeverityPolicy.objects.filter(service=service).select_related("severity", "policy")
                                            .order_by("severity__rank"),
        "team_default": EscalationPolicy.objects.filter(team_id=service.team_id, is_default=True).first(),
    })
