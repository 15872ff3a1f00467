from django.urls import include, path

urlpatterns = [
    path("", include("oncall.api.people")),
    path("", include("oncall.api.schedules")),
    path("", include("oncall.api.escalation")),
]
