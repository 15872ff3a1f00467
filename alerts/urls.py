"""Root-level ingest URLs: PagerDuty's own path, /metrics, /healthz and the integration pages."""

from django.urls import path

from . import views as ingest_views
from .api.ingest import events_v2_view

urlpatterns = [
    # Alertmanager's pagerduty_configs and PagerDuty client libraries post to <url>/v2/enqueue.
    path("v2/enqueue", events_v2_view, name="ingest-v2-enqueue"),
    path("services/<slug:slug>/integrations/", ingest_views.integration_list, name="service-integrations"),
    path("services/<slug:slug>/integrations/<int:pk>/", ingest_views.integration_detail,
         name="service-integration-detail"),
    path("services/<slug:slug>/alerts/", ingest_views.service_alerts, name="service-alerts"),
]
