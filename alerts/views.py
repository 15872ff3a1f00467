"""Pages for the integrations and alerts of a service. Thin: forms validate, services write."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from incidents.models import Service
from oncall.permissions import can_manage_team, require_team_manager

from . import queries as alert_queries
from .api.integrations import ingest_url
from .forms import IntegrationForm, IntegrationSettingsForm
from .services import integrations as integration_services

_SHOWN_KEY = "vigil-new-integration-key"


def _service(request, slug) -> Service:
    # A service of another team does not exist for this person: 404, not 403.
    return get_object_or_404(Service.objects.visible_to(request.user).select_related("team"), slug=slug)


def _apply_errors(form, exc: ValidationError):
    for field_name, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
        for error in errors:
            form.add_error(field_name if field_name in form.fields else None, error)


@login_required
@require_http_methods(["GET", "POST"])
def integration_list(request, slug):
    service = _service(request, slug)
    can_manage = can_manage_team(request.user, service.team)
    form = IntegrationForm()
    if request.method == "POST":
        require_team_manager(request.user, service.team, to="change its integrations")
        action = request.POST.get("action")
        if action == "create":
            form = IntegrationForm(request.POST)
            if form.is_valid():
                try:
                    integration, key = integration_services.create_integration(
                        service=service, by=request.user, **form.cleaned_data
                    )
                except ValidationError as exc:
                    _apply_errors(form, exc)
                else:
                    request.session[_SHOWN_KEY] = [integration.pk, key]
                    return redirect("service-integration-detail", slug=service.slug, pk=integration.pk)
    return render(request, "alerts/list.html", {
        "service": service, "can_manage": can_manage, "form": form,
        "integrations": alert_queries.integrations_for(request.user).filter(service=service),
    })


@login_required
@require_http_methods(["GET", "POST"])
def integration_detail(request, slug, pk):
    service = _service(request, slug)
    integration = get_object_or_404(alert_queries.integrations_for(request.user).filter(service=service), pk=pk)
    can_manage = can_manage_team(request.user, service.team)
    key = None
    shown = request.session.get(_SHOWN_KEY)
    if shown and shown[0] == integration.pk:
        key = shown[1]
        del request.session[_SHOWN_KEY]  # shown once
    form = IntegrationSettingsForm(kind=integration.kind, initial={
        name: getattr(integration, name) for name in integration_services.UPDATABLE})
    if request.method == "POST":
        require_team_manager(request.user, service.team, to="change its integrations")
        if request.POST.get("action") == "rotate":
            new_key = integration_services.rotate_integration_key(integration=integration, by=request.user)
            request.session[_SHOWN_KEY] = [integration.pk, new_key]
            messages.success(request, "New key generated; the old one no longer works.")
            return redirect("service-integration-detail", slug=service.slug, pk=integration.pk)
        form = IntegrationSettingsForm(request.POST, kind=integration.kind)
        if form.is_valid():
            try:
                integration_services.update_integration(integration=integration, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, "Integration saved.")
                return redirect("service-integration-detail", slug=service.slug, pk=integration.pk)
    return render(request, "alerts/detail.html", {
        "service": service, "integration": integration, "can_manage": can_manage, "form": form,
        "key": key, "endpoint": ingest_url(integration, key or "<key>", request=request),
        "alerts": alert_queries.alerts_for_service(service).filter(integration=integration)[:20],
    })


@login_required
def service_alerts(request, slug):
    service = _service(request, slug)
    page = Paginator(alert_queries.alerts_for_service(service), 50).get_page(request.GET.get("page"))
    return render(request, "alerts/alerts.html", {"service": service, "page": page})
