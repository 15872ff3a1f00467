"""The paging API (../API.md, "On-call and escalation"): one module per resource."""

from django.urls import include, path

urlpatterns = [
    path("", include("paging.api.incidents")),  # incidents/{number}/notifications|page|responders/
    path("", include("paging.api.people")),  # users/{username}/contact-methods|notification-rules/
    path("", include("paging.api.inbound")),  # paging/sms/inbound/ (SMS reply codes)
]
