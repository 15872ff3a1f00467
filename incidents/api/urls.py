from django.urls import include, path

urlpatterns = [
    path("", include("incidents.api.core")),
    path("", include("incidents.api.checklist")),
    path("", include("incidents.api.maintenance")),
]
