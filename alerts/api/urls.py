from django.urls import include, path

urlpatterns = [
    path("", include("alerts.api.ingest")),
    path("", include("alerts.api.integrations")),
]
