"""Paging's browser pages: one-click acknowledge, my pages, my contact methods, paging from an incident."""

from django.urls import include, path

urlpatterns = [
    path("", include("paging.views.ack")),
    path("", include("paging.views.profile")),
    path("", include("paging.views.incident")),
    path("", include("paging.views.mine")),
]
