"""Postmortem pages: the list, one postmortem and its actions, action items, the factor vocabulary, and
the incident page's postmortem panel actions (``views.incident``)."""

from django.urls import include, path

from .views import action_items, export, factors, library, lists, postmortem
from .views import trackers as tracker_views

urlpatterns = [
    path("postmortems/", lists.postmortem_list, name="postmortem-list"),
    path("postmortems/library/", library.library, name="postmortem-library"),
    path("postmortems/action-items/mine/", lists.my_action_items, name="action-items-mine"),
    path("postmortems/action-items/team/<slug:slug>/", lists.team_action_items, name="action-items-team"),
    path("postmortems/action-items/<id:pk>/", action_items.action_item_detail, name="action-item-detail"),
    path("postmortems/action-items/<id:pk>/status/", action_items.action_item_status, name="action-item-status"),
    path("postmortems/action-items/<id:pk>/send/", tracker_views.action_item_send, name="action-item-send"),
    path("postmortems/trackers/team/<slug:slug>/", tracker_views.team_trackers, name="postmortem-trackers-team"),
    path("postmortems/trackers/<id:pk>/", tracker_views.tracker_edit, name="postmortem-tracker"),
    path("postmortems/trackers/<id:pk>/delete/", tracker_views.tracker_delete, name="postmortem-tracker-delete"),
    path("postmortems/factors/", factors.factor_tags, name="postmortem-factors"),
    path("postmortems/factors/<id:pk>/toggle/", factors.factor_tag_toggle, name="postmortem-factor-toggle"),
    path("postmortems/<id:pk>/", postmortem.postmortem_detail, name="postmortem-detail"),
    path("postmortems/<id:pk>/edit/", postmortem.postmortem_edit, name="postmortem-edit"),
    path("postmortems/<id:pk>/transition/<str:transition>/", postmortem.postmortem_transition,
         name="postmortem-transition"),
    path("postmortems/<id:pk>/reviewers/", postmortem.postmortem_reviewers, name="postmortem-reviewers"),
    path("postmortems/<id:pk>/factors/", postmortem.postmortem_factor_add, name="postmortem-factor-add"),
    path("postmortems/<id:pk>/factors/<id:factor>/remove/", postmortem.postmortem_factor_remove,
         name="postmortem-factor-remove"),
    path("postmortems/<id:pk>/events/", postmortem.postmortem_event_add, name="postmortem-event-add"),
    path("postmortems/<id:pk>/action-items/", postmortem.postmortem_action_item_add,
         name="postmortem-action-item-add"),
    path("postmortems/<id:pk>/refresh/", postmortem.postmortem_refresh, name="postmortem-refresh"),
    path("postmortems/<id:pk>/meeting/", postmortem.postmortem_meeting, name="postmortem-meeting"),
    path("postmortems/<id:pk>/meeting/cancel/", postmortem.postmortem_meeting_cancel,
         name="postmortem-meeting-cancel"),
    path("postmortems/<id:pk>/export.md", export.postmortem_markdown, name="postmortem-export-markdown"),
    path("postmortems/<id:pk>/print/", export.postmortem_print, name="postmortem-print"),
    path("", include("postmortems.views.incident")),
]
