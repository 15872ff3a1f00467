"""URLs of the incident core API: incidents, their sub-resources, services.

The transition route matches only the seven transition names, so other
apps may mount their own ``/incidents/{number}/<name>/`` sub-resources (the
escalation notifications, postmortems) after this module; any other name is
an ordinary 404.
"""

from django.urls import path, re_path

from ..models.incident import TRANSITIONS
from . import views

_TRANSITION = "|".join(TRANSITIONS)

urlpatterns = [
    path("incidents/", views.IncidentList.as_view(), name="api-incidents"),
    path("incidents/<str:number>/", views.IncidentDetail.as_view(), name="api-incident"),
    path("incidents/<str:number>/timeline/", views.IncidentTimeline.as_view(), name="api-incident-timeline"),
    path("incidents/<str:number>/notes/", views.IncidentNotes.as_view(), name="api-incident-notes"),
    path("incidents/<str:number>/roles/", views.IncidentRoles.as_view(), name="api-incident-roles"),
    path("incidents/<str:number>/roles/<id:id>/", views.IncidentRoleDetail.as_view(), name="api-incident-role"),
    path("incidents/<str:number>/updates/", views.IncidentUpdates.as_view(), name="api-incident-updates"),
    re_path(rf"^incidents/(?P<number>[^/]+)/(?P<transition>{_TRANSITION})/$", views.IncidentTransition.as_view(),
            name="api-incident-transition"),
    path("services/", views.ServiceList.as_view(), name="api-services"),
    path("services/<slug:slug>/", views.ServiceDetail.as_view(), name="api-service"),
]
