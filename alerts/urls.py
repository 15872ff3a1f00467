"""Root-level URLs of alerts: PagerDuty's and Opsgenie's own ingest paths, and the integration and alert pages of a service."""

from django.urls import path

from . import views
from .api.ingest import (
    events_v2_view,
    opsgenie_acknowledge_view,
    opsgenie_close_view,
    opsgenie_create_view,
)

urlpatterns = [
    # Alertmanager's pagerduty_configs and PagerDuty client libraries post to <url>/v2/enqueue.
    path("v2/enqueue", events_v2_view, name="ingest-v2-enqueue"),
    # Opsgenie's Alert API paths: Alertmanager's opsgenie_configs post to <api_url>v2/alerts, Grafana's
    # Opsgenie contact point to its Alert API URL (…/v2/alerts); both close with …/<alias>/close?identifierType=alias.
    path("v2/alerts", opsgenie_create_view, name="ingest-opsgenie"),
    path("v2/alerts/<path:identifier>/close", opsgenie_close_view, name="ingest-opsgenie-close"),
    path("v2/alerts/<path:identifier>/acknowledge", opsgenie_acknowledge_view, name="ingest-opsgenie-acknowledge"),
    path("services/<slug:slug>/integrations/", views.integration_list, name="service-integrations"),
    path("services/<slug:slug>/integrations/<id:pk>/", views.integration_detail,
         name="service-integration-detail"),
    path("services/<slug:slug>/alerts/", views.service_alerts, name="service-alerts"),
]
