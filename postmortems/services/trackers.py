"""Issue trackers: a team's connections (kept by its leads and managers, and staff), sending an action item
as an issue, and what the tracker's webhook says back.

``send_action_item`` holds the item's row lock while the tracker answers (at most
``trackers.TIMEOUT_SECONDS``), so two people pressing "Send" at once make one issue, not two; if the tracker
refuses or times out, nothing is written. ``sync_from_tracker`` completes (or reopens) the item through
``set_action_item_status``, so the change is a history row on the incident's timeline, by nobody (the
tracker) with the issue named in its reason; asking twice changes nothing.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from oncall.models import Team, User
from oncall.permissions import require_team_manager

from ..models import ActionItem, ActionItemStatus, IssueTracker
from ..trackers import CLOSED, REOPENED, TrackerError, client_for
from .action_item import _locked, set_action_item_status
from .postmortem import PostmortemConflict, check_can_work

TRACKER_FIELDS = {"name", "kind", "base_url", "project", "username", "token", "active"}
MANAGE = "change its issue trackers"

__all__ = ["AlreadySent", "TrackerError", "create_tracker", "delete_tracker", "issue_body", "send_action_item",
           "sync_from_tracker", "update_tracker"]


class AlreadySent(PostmortemConflict):
    """The item is an issue already (an API 409 with its ``external_url``)."""

    code = "already_sent"


# --- The team's trackers ----------------------------------------------------------------

def _check_tracker(tracker: IssueTracker) -> None:
    tracker.name = tracker.name.strip()
    tracker.project = tracker.project.strip().strip("/")
    tracker.username = tracker.username.strip()
    tracker.token = tracker.token.strip()
    tracker.base_url = tracker.base_url.strip().rstrip("/")
    tracker.full_clean(exclude=["team"], validate_unique=False)
    if IssueTracker.objects.filter(team=tracker.team_id, name__iexact=tracker.name).exclude(pk=tracker.pk).exists():
        raise ValidationError({"name": f"Team {tracker.team.slug} has a tracker named {tracker.name!r} already."})


@transaction.atomic
def create_tracker(*, team: Team, by: User | None, name: str, kind: str, base_url: str, project: str, token: str,
                   username: str = "", active: bool = True, now: datetime | None = None) -> IssueTracker:
    """A new tracker of ``team`` (its leads and managers, and staff); its webhook secret is generated."""
    require_team_manager(by, team, to=MANAGE)
    tracker = IssueTracker(team=team, name=name, kind=kind, base_url=base_url, project=project, token=token,
                           username=username, active=active, created_at=now or timezone.now())
    _check_tracker(tracker)
    tracker._history_user = by
    tracker._change_reason = "created"
    tracker.save()
    return tracker


@transaction.atomic
def update_tracker(*, tracker: IssueTracker, by: User | None, **fields) -> IssueTracker:
    """Change a tracker's settings; an empty ``token`` keeps the one stored (forms never show it back)."""
    unknown = set(fields) - TRACKER_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = IssueTracker.objects.select_for_update(of=("self",)).select_related("team").get(pk=tracker.pk)
    require_team_manager(by, locked.team, to=MANAGE)
    if not fields.get("token", "x").strip():
        fields.pop("token")
    for name, value in fields.items():
        setattr(locked, name, value)
    _check_tracker(locked)
    locked._history_user = by
    locked._change_reason = "edited"
    locked.save()
    return locked


@transaction.atomic
def delete_tracker(*, tracker: IssueTracker, by: User | None) -> None:
    """Remove a tracker. Items sent through it keep their issue's key and link; its webhook stops working."""
    locked = IssueTracker.objects.select_for_update(of=("self",)).select_related("team").get(pk=tracker.pk)
    require_team_manager(by, locked.team, to=MANAGE)
    # Unlinked one by one, not by the foreign key's SET NULL (a bulk update): each item's history says so.
    for item in ActionItem.objects.select_for_update().filter(tracker=locked).order_by("pk"):
        item.tracker = None
        item._history_user = by
        item._change_reason = f"tracker {locked.name} removed; the issue stays at {item.external_url}"
        item.save(update_fields=["tracker"])
    locked._history_user = by
    locked._change_reason = "deleted"
    locked.delete()


# --- Sending an item -----------------------------------------------------------------------

def issue_body(item: ActionItem, *, site: str) -> str:
    """The issue's text (Markdown, readable as plain text in Jira): what the item asks, and a link back."""
    incident = item.incident
    zone = ZoneInfo(incident.team.timezone or "UTC")
    due = (f"{timezone.localtime(item.due_at, zone):%Y-%m-%d %H:%M} ({zone.key})" if item.due_at else "not set")
    owner = f"{item.owner.display_name} ({item.owner.username})" if item.owner else "nobody yet"
    lines = [
        f"Action item from incident {incident.number}: {incident.title}",
        "",
        f"- Priority: {item.get_priority_display()}",
        f"- Due: {due}",
        f"- Owner in Vigil: {owner}",
        "",
        "Success criteria:",
        "",
        item.success_criteria.strip() or "(none written)",
        "",
        f"In Vigil: {site}{reverse('action-item-detail', args=[item.pk])}",
        "",
        "Closing this issue marks the action item done in Vigil; reopening it reopens the item.",
    ]
    return "\n".join(lines)


def _sent_message(item: ActionItem) -> str:
    where = item.tracker.name if item.tracker else "a tracker"
    return f"This action item was sent to {where} already: {item.external_url}"


@transaction.atomic
def send_action_item(*, item: ActionItem, tracker: IssueTracker, by: User | None, site: str,
                     now: datetime | None = None) -> ActionItem:
    """Create the item's issue in ``tracker`` (one of its incident's team, active) and keep its key and link.

    Refuses an item sent already (AlreadySent, with its link), another team's or a disabled tracker
    (ValidationError on ``tracker``); a tracker's refusal or silence is a TrackerError and nothing is saved.
    """
    now = now or timezone.now()
    locked = _locked(item)
    check_can_work(by, locked.incident)
    if locked.external_url:
        raise AlreadySent(_sent_message(locked), external_url=locked.external_url)
    if tracker.team_id != locked.incident.team_id:
        raise ValidationError({"tracker": f"Tracker {tracker.pk} is not one of team {locked.incident.team.slug}'s; "
                                          "send the item to a tracker of its incident's team."})
    if not tracker.active:
        raise ValidationError({"tracker": f"Tracker {tracker.name!r} is turned off; its team's leads may turn it "
                                          "back on."})
    client = client_for(tracker)
    issue = client.create_issue(title=locked.title, body=issue_body(locked, site=site))
    locked.tracker, locked.external_key, locked.external_url = tracker, issue.key, issue.url
    locked.synced_at = locked.updated_at = now
    locked._history_user = by
    locked._change_reason = f"sent to {tracker.name} as {client.display_key(issue.key)}"
    locked.save(update_fields=["tracker", "external_key", "external_url", "synced_at", "updated_at"])
    return locked


# --- What the tracker says back ------------------------------------------------------------

def sync_from_tracker(*, tracker: IssueTracker, key: str, change: str, now: datetime | None = None) -> str:
    """Apply an issue's closing (the item is done) or reopening (a done item is open again).

    Answers what happened: ``completed``, ``reopened``, ``unchanged`` (already so, or won't do) or ``unknown``
    (no item of this tracker has that issue). Idempotent: trackers deliver a webhook more than once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        found = ActionItem.objects.filter(tracker=tracker, external_key=key).only("pk").first()
        if found is None:
            return "unknown"
        item = _locked(found)
        where = f"{tracker.name} {client_for(tracker).display_key(key)}"
        outcome = "unchanged"
        if change == CLOSED and item.active:
            item = set_action_item_status(item=item, status=ActionItemStatus.DONE, by=None, now=now,
                                          reason=f"closed in {where}")
            outcome = "completed"
        elif change == REOPENED and item.status == ActionItemStatus.DONE:
            item = set_action_item_status(item=item, status=ActionItemStatus.OPEN, by=None, now=now,
                                          reason=f"reopened in {where}")
            outcome = "reopened"
        item.synced_at = now
        item.skip_history_when_saving = True  # synced_at is not history: when Vigil last heard of the issue
        item.save(update_fields=["synced_at"])
    return outcome
