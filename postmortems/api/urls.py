"""URLs of the postmortems API: /api/v1/postmortems/ and /api/v1/action-items/."""

from django.urls import path, re_path

from ..models.postmortem import TRANSITIONS
from . import views, webhooks

urlpatterns = [
    path("postmortems/", views.PostmortemList.as_view(), name="api-postmortems"),
    path("postmortems/<id:pk>/", views.PostmortemDetail.as_view(), name="api-postmortem"),
    path("postmortems/<id:pk>/meeting/", views.PostmortemMeeting.as_view(), name="api-postmortem-meeting"),
    re_path(rf"^postmortems/(?P<pk>[0-9]{{1,18}})/(?P<transition>{'|'.join(TRANSITIONS)})/$",
            views.PostmortemTransition.as_view(), name="api-postmortem-transition"),
    path("action-items/", views.ActionItemList.as_view(), name="api-action-items"),
    path("action-items/<id:pk>/", views.ActionItemDetail.as_view(), name="api-action-item"),
    path("action-items/<id:pk>/send/", views.ActionItemSend.as_view(), name="api-action-item-send"),
    path("trackers/<id:pk>/webhook/", webhooks.tracker_webhook, name="api-tracker-webhook"),
]
