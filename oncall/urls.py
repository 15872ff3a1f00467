"""On-call pages under /oncall/, and the calendar feed."""

from django.urls import path

from . import views

urlpatterns = [
    path("oncall/", views.oncall_now, name="oncall-now"),
    path("oncall/me/", views.my_shifts, name="oncall-me"),
    path("oncall/calendar/rotate/", views.rotate_token, name="oncall-calendar-rotate"),
    path("oncall/calendar/<str:token>.ics", views.calendar_feed, name="oncall-calendar"),
    path("oncall/swaps/<id:pk>/<str:decision>/", views.swap_decide, name="oncall-swap-decide"),
    path("oncall/teams/<slug:slug>/", views.team_page, name="oncall-team"),
    path("oncall/teams/<slug:slug>/rotations/new/", views.rotation_new, name="oncall-rotation-new"),
    path("oncall/teams/<slug:slug>/participants/", views.participants_change, name="oncall-participants"),
    path("oncall/teams/<slug:slug>/overrides/new/", views.override_new, name="oncall-override-new"),
    path("oncall/teams/<slug:slug>/swaps/new/", views.swap_new, name="oncall-swap-new"),
    path("oncall/teams/<slug:slug>/notes/new/", views.note_new, name="oncall-note-new"),
    path("oncall/teams/<slug:slug>/load/", views.load_page, name="oncall-load"),
    path("oncall/teams/<slug:slug>/load.csv", views.load_csv, name="oncall-load-csv"),
    path("oncall/teams/<slug:slug>/schedule.yaml", views.schedule_yaml, name="oncall-schedule-yaml"),
    path("oncall/teams/<slug:slug>/policies/new/", views.policy_new, name="oncall-policy-new"),
    path("oncall/teams/<slug:slug>/policies/<id:pk>/", views.policy_edit, name="oncall-policy"),
    path("oncall/teams/<slug:slug>/policies/<id:pk>/delete/", views.policy_delete, name="oncall-policy-delete"),
]
