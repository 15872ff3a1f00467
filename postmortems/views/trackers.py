"""Issue trackers: a team's page to add, change and remove them (its leads and managers, and staff; members
see which exist), and sending an action item to one.

Another team's tracker, or a team the reader is not in, is a 404; a member who does not manage the team gets
403 on every change. The token is never shown back; the webhook URL and secret are, to the managers, to paste
into the tracker.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.links import site_url
from incidents.views.common import page
from oncall.models import Team
from oncall.permissions import can_manage_team, require_team_manager

from ..forms import SendForm, TrackerForm, apply_service_errors
from ..models import IssueTracker
from ..queries import action_items_for
from ..services.trackers import (
    MANAGE,
    AlreadySent,
    TrackerError,
    create_tracker,
    delete_tracker,
    send_action_item,
    update_tracker,
)

FIELDS = ["name", "kind", "base_url", "project", "username", "token", "active"]


def _team(request, slug) -> Team:
    team = Team.objects.visible_to(request.user).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team among yours.")
    return team


def _tracker(request, pk) -> IssueTracker:
    return get_object_or_404(IssueTracker.objects.filter(team__in=Team.objects.visible_to(request.user))
                             .select_related("team"), pk=pk)


def webhook_url(request, tracker: IssueTracker) -> str:
    return site_url(request) + reverse("api-tracker-webhook", args=[tracker.pk])


@page
@require_http_methods(["GET", "HEAD", "POST"])
def team_trackers(request, slug):
    """The team's trackers; a POST (leads, managers, staff) adds one."""
    team = _team(request, slug)
    can_manage = can_manage_team(request.user, team)
    form = TrackerForm(initial={"active": True})
    status = 200
    if request.method == "POST":
        require_team_manager(request.user, team, to=MANAGE)
        form = TrackerForm(request.POST)
        if form.is_valid():
            try:
                tracker = create_tracker(team=team, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"Tracker {tracker.name} added: now paste its webhook URL and secret "
                                          f"into {tracker.get_kind_display()}.")
                return redirect("postmortem-tracker", pk=tracker.pk)
        status = 400
    trackers = list(IssueTracker.objects.filter(team=team).order_by("name", "id"))
    return render(request, "postmortems/trackers.html", {
        "team": team, "trackers": trackers, "can_manage": can_manage, "form": form,
    }, status=status)


@page
@require_http_methods(["GET", "HEAD", "POST"])
def tracker_edit(request, pk):
    """One tracker: its webhook URL and secret to paste into the tracker, and its settings (token write-only)."""
    tracker = _tracker(request, pk)
    require_team_manager(request.user, tracker.team, to=MANAGE)
    status = 200
    if request.method == "POST":
        form = TrackerForm(request.POST, editing=True)
        if form.is_valid():
            try:
                tracker = update_tracker(tracker=tracker, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"Tracker {tracker.name} saved.")
                return redirect("postmortem-tracker", pk=tracker.pk)
        status = 400
    else:
        form = TrackerForm(initial={name: getattr(tracker, name) for name in FIELDS if name != "token"},
                           editing=True)
    return render(request, "postmortems/tracker.html", {
        "tracker": tracker, "team": tracker.team, "form": form, "webhook_url": webhook_url(request, tracker),
    }, status=status)


@page
@require_POST
def tracker_delete(request, pk):
    tracker = _tracker(request, pk)
    require_team_manager(request.user, tracker.team, to=MANAGE)
    team = tracker.team
    delete_tracker(tracker=tracker, by=request.user)
    messages.success(request, f"Tracker {tracker.name} removed; items sent through it keep their issue's link. "
                              f"Remove the webhook from {tracker.get_kind_display()} too.")
    return redirect("postmortem-trackers-team", slug=team.slug)


@page
@require_POST
def action_item_send(request, pk):
    """Send the item to one of its incident's team's trackers; the tracker's refusal is shown, nothing saved."""
    item = get_object_or_404(action_items_for(request.user), pk=pk)
    trackers = IssueTracker.objects.filter(team=item.incident.team_id, active=True)
    form = SendForm(request.POST, trackers=trackers)
    if not form.is_valid():
        messages.error(request, "Choose one of the team's issue trackers to send the item to.")
        return redirect("action-item-detail", pk=item.pk)
    tracker = form.cleaned_data["tracker"]
    try:
        item = send_action_item(item=item, tracker=tracker, by=request.user, site=site_url(request))
    except AlreadySent as exc:
        messages.info(request, exc.message)
    except TrackerError as exc:
        messages.error(request, f"Not sent: {exc}")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Sent to {tracker.name}: {item.external_url}")
    return redirect("action-item-detail", pk=item.pk)
