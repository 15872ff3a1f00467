"""Root-level URLs of alerts: PagerDuty's own ingest path and the integration and alert pages of a service."""

from django.urls import path

from . import views
from .api.ingest import events_v2_view

urlpatterns = [
    # Alertmanager's pagerduty_configs and PagerDuty client libraries post to <url>/v2/enqueue.
    path("v2/enqueue", events_v2_view, name="ingest-v2-enqueue"),
    path("services/<slug:slug>/integrations/", views.integration_list, name="service-integrations"),
    path("services/<slug:slug>/integrations/<id:pk>/", views.integration_detail,
         name="service-integration-detail"),
    path("services/<slug:slug>/alerts/", views.service_alerts, name="service-alerts"),
]
