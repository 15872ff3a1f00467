"""Browser pages of the incident core: dashboard, incidents, services. All need a login."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("incidents/", views.incident_list, name="incident-list"),
    path("incidents/new/", views.incident_create, name="incident-create"),
    path("incidents/<str:number>/", views.incident_detail, name="incident-detail"),
    path("incidents/<str:number>/edit/", views.incident_edit, name="incident-edit"),
    path("incidents/<str:number>/live/", views.incident_live, name="incident-live"),
    path("incidents/<str:number>/transition/<str:transition>/", views.incident_transition,
         name="incident-transition"),
    path("incidents/<str:number>/notes/", views.incident_note, name="incident-note"),
    path("incidents/<str:number>/updates/", views.incident_update, name="incident-update"),
    path("incidents/<str:number>/resolve/", views.incident_resolve, name="incident-resolve"),
    path("incidents/<str:number>/roles/", views.incident_role_assign, name="incident-role-assign"),
    path("incidents/<str:number>/roles/<id:pk>/remove/", views.incident_role_remove,
         name="incident-role-remove"),
    path("incidents/<str:number>/checklist/<id:pk>/", views.incident_checklist_tick,
         name="incident-checklist-tick"),
    path("services/", views.service_list, name="service-list"),
    path("services/<slug:slug>/", views.service_detail, name="service-detail"),
    path("services/<slug:slug>/maintenance/", views.service_maintenance, name="service-maintenance"),
]
