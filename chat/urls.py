"""Mounted under /api/v1/ (config/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("chat/slack/commands/", views.slash_command, name="chat-slack-commands"),
    path("chat/slack/actions/", views.action, name="chat-slack-actions"),
]
