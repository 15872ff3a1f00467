from django.urls import path

from . import views

app_name = "comms"

urlpatterns = [
    path("status/", views.status_page, name="status"),
    path("status/api/v2/summary.json", views.summary_json, name="summary-json"),
    path("status/api/v2/status.json", views.status_json, name="status-json"),
    path("status/api/v2/components.json", views.components_json, name="components-json"),
    path("status/api/v2/incidents/unresolved.json", views.unresolved_json, name="unresolved-json"),
    path("status/feed.atom", views.feed, name="feed"),
    path("status/<slug:team_slug>/", views.status_page, name="team-status"),
]
