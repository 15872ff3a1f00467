"""A service's maintenance windows: plan one, end one. While one is active the service's alerts open no incident."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from core.ids import parse_id
from oncall.permissions import can_manage_team, require_team_manager

from ..forms import MaintenanceWindowForm
from ..models import MaintenanceWindow
from ..queries import maintenance_windows_for, services_for
from ..services import maintenance as maintenance_services
from .common import page


@page
@require_http_methods(["GET", "POST"])
def service_maintenance(request, slug):
    # Another team's service does not exist for this reader: 404, not 403.
    service = get_object_or_404(services_for(request.user), slug=slug)
    form = MaintenanceWindowForm()
    if request.method == "POST":
        require_team_manager(request.user, service.team, to="plan its maintenance")
        if request.POST.get("action") == "end":
            window = get_object_or_404(MaintenanceWindow, service=service, pk=parse_id(request.POST.get("window", "")) or 0)
            maintenance_services.end_maintenance_window(window=window, by=request.user)
            messages.success(request, "Maintenance window ended.")
            return redirect("service-maintenance", slug=service.slug)
        form = MaintenanceWindowForm(request.POST)
        if form.is_valid():
            maintenance_services.create_maintenance_window(service=service, by=request.user, **form.cleaned_data)
            messages.success(request, "Maintenance window planned.")
            return redirect("service-maintenance", slug=service.slug)
    return render(request, "incidents/service_maintenance.html", {
        "service": service, "form": form, "windows": maintenance_windows_for(service)[:20],
        "can_manage": can_manage_team(request.user, service.team),
    })
