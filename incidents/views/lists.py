"""The read-only pages: dashboard, incident list, services. Each runs a fixed number of queries."""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from ..forms import IncidentFilterForm
from ..models.incident import OPEN_STATUSES
from ..queries import commander_of, incidents_for, services_for
from .common import annotate_clock, demote_headings, humanize, page

PAGE_SIZE = 50


def _with_commander(incidents):
    # Reads the prefetched role assignments: no query per row.
    for incident in incidents:
        incident.commander = commander_of(incident)
    return incidents


@page
def dashboard(request):
    """Open incidents of the reader's teams, most severe first, with their clocks."""
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
    return render(request, "incidents/dashboard.html",
                  {"incidents": incidents, "groups": groups_list, "overdue": overdue})


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
def service_detail(request, slug):
    # Another team's service does not exist for this reader: 404, not 403.
    service = get_object_or_404(services_for(request.user), slug=slug)
    recent = _with_commander(list(incidents_for(request.user).filter(services=service)
                                  .order_by("-created_at", "-id")[:20]))
    annotate_clock(recent, timezone.now())
    service.runbook_rendered = demote_headings(service.runbook_html, levels=2)
    return render(request, "incidents/service_detail.html", {"service": service, "incidents": recent})
