"""Root URLs. Each app owns its own url modules; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import observability

api_v1 = [
    path("", include("oncall.api.urls")),
    path("", include("incidents.api.urls")),
    path("", include("alerts.api.urls")),
    path("", include("paging.api.urls")),
    path("", include("postmortems.api.urls")),
    path("", include("chat.urls")),
    path("", include("reporting.api")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # GET only: DRF would answer OPTIONS through the page's HTML renderer, which has no template for it (a 500).
    # The split view serves Swagger UI's start-up script as a file of its own (no inline script, for the CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", http_method_names=["get", "head"]),
         name="api-docs"),
    path("api/v1/", include(api_v1)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("metrics", observability.metrics_view, name="metrics"),
    path("healthz", observability.healthz, name="healthz"),
    path("", include("postmortems.urls")),
    path("", include("comms.urls")),
    path("", include("paging.urls")),
    path("", include("alerts.urls")),
    path("", include("oncall.urls")),
    path("", include("incidents.urls")),
]

handler404 = "config.api.json_not_found"
