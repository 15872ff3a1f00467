from django.urls import path

from .views import components, subscribe
from .views import status as views
from .views import templates as template_views

app_name = "comms"

urlpatterns = [
    path("comms/components/", components.component_list, name="components"),
    path("comms/components/<slug:team_slug>/new/", components.component_new, name="component-new"),
    path("comms/components/<slug:team_slug>/<id:pk>/", components.component_edit, name="component-edit"),
    path("comms/components/<slug:team_slug>/<id:pk>/delete/", components.component_delete, name="component-delete"),
    path("comms/templates/", template_views.template_list, name="templates"),
    path("comms/templates/<slug:kind>/", template_views.template_edit, name="template-edit"),
    path("comms/templates/<slug:team_slug>/<slug:kind>/", template_views.template_edit, name="team-template-edit"),
    path("status/", views.status_page, name="status"),
    path("status/api/v2/summary.json", views.summary_json, name="summary-json"),
    path("status/api/v2/status.json", views.status_json, name="status-json"),
    path("status/api/v2/components.json", views.components_json, name="components-json"),
    path("status/api/v2/incidents/unresolved.json", views.unresolved_json, name="unresolved-json"),
    path("status/feed.atom", views.feed, name="feed"),
    # Before the team page's pattern: a team's page can't be called "subscribe".
    path("status/subscribe/", subscribe.subscribe, name="subscribe"),
    path("status/confirm/<str:token>/", subscribe.confirm, name="subscription-confirm"),
    path("status/unsubscribe/<str:token>/", subscribe.unsubscribe, name="subscription-unsubscribe"),
    path("status/<slug:team_slug>/", views.status_page, name="team-status"),
    path("status/<slug:team_slug>/subscribe/", subscribe.subscribe, name="team-subscribe"),
]
