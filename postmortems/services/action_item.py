"""Action items: created from a postmortem or straight from the incident during the response.

Each write locks the item (or, for a new one, checks the incident), records who and why in the item's
history (the incident's timeline shows creations and status changes), and checks that the person may
work the incident. Status changes go through the item's transitions: start, complete, drop (won't do,
with a reason) and reopen.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.instants import check_instant
from incidents.models import Incident
from oncall.models import User

from ..models import ActionItem, ActionItemStatus, Priority
from ..models.action_item import TRANSITION_TO
from .postmortem import PostmortemConflict, check_can_work, check_person

EDITABLE_FIELDS = {"title", "owner", "due_at", "priority", "success_criteria"}


class IllegalStatus(PostmortemConflict):
    """The item cannot go from its status to the one asked for (an API 409 with the statuses allowed)."""

    code = "illegal_transition"


def allowed_statuses(item: ActionItem) -> list[str]:
    """The statuses the item may move to now, in order."""
    available = {t.target for t in item.get_available_status_transitions()}
    return [status for status in ActionItemStatus.values if status in available]


def _check(item: ActionItem, by: User | None) -> None:
    item.full_clean(exclude=["incident", "owner", "created_by", "status"])
    check_instant(item.due_at, "due_at")
    check_person(item.owner, item.incident, "owner", by)


@transaction.atomic
def create_action_item(*, incident: Incident, by: User | None, title: str, owner: User | None = None,
                       due_at: datetime | None = None, priority: str = Priority.P2, success_criteria: str = "",
                       now: datetime | None = None) -> ActionItem:
    """A new open action item of ``incident`` (while it is open too: found during the response)."""
    now = now or timezone.now()
    check_can_work(by, incident)
    item = ActionItem(incident=incident, title=title.strip(), owner=owner, due_at=due_at, priority=priority,
                      success_criteria=success_criteria.strip(), created_by=by, created_at=now, updated_at=now)
    _check(item, by)
    item._history_user = by
    item._change_reason = "created"
    item.save()
    return item


def _locked(item: ActionItem) -> ActionItem:
    # Only the item's row is locked (and PostgreSQL locks no row of an outer join: owner may be null).
    return ActionItem.objects.select_for_update(of=("self",)).select_related("incident__team", "owner").get(pk=item.pk)


@transaction.atomic
def update_action_item(*, item: ActionItem, by: User | None, now: datetime | None = None, **fields) -> ActionItem:
    """Change an item's title, owner, due date, priority or success criteria (its status: set_action_item_status)."""
    now = now or timezone.now()
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = _locked(item)
    check_can_work(by, locked.incident)
    if "title" in fields:
        fields["title"] = fields["title"].strip()
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, fields[name])
    _check(locked, by)
    locked.updated_at = now
    locked._history_user = by
    locked._change_reason = "edited: " + ", ".join(changed)
    locked.save(update_fields=[*changed, "updated_at"])
    return locked


@transaction.atomic
def set_action_item_status(*, item: ActionItem, status: str, by: User | None, reason: str = "",
                           now: datetime | None = None) -> ActionItem:
    """Move an item to ``status`` (open, in_progress, done, wont_do) through its transition. Won't do needs a
    ``reason``. Asking for the status it has changes nothing. Raises IllegalStatus (with the allowed ones)."""
    now = now or timezone.now()
    if status not in ActionItemStatus.values:
        raise ValidationError({"status": f"Unknown status {status!r}; use one of {', '.join(ActionItemStatus.values)}."})
    locked = _locked(item)
    check_can_work(by, locked.incident)
    if locked.status == status:
        return locked
    reason = reason.strip()
    if status == ActionItemStatus.WONT_DO and not reason:
        raise ValidationError({"wont_do_reason": "Say why it won't be done: the reason stays with the item."})
    allowed = allowed_statuses(locked)
    if status not in allowed:
        raise IllegalStatus(f"An action item that is {locked.get_status_display().lower()} cannot become "
                            f"{ActionItemStatus(status).label.lower()} directly; possible now: "
                            f"{', '.join(allowed) or 'none'}.", status=locked.status, allowed=allowed)
    transition = TRANSITION_TO[ActionItemStatus(status)]
    if transition == "drop":
        locked.drop(now=now, reason=reason)
    else:
        getattr(locked, transition)(now=now)
    locked.updated_at = now
    locked._history_user = by
    locked._change_reason = status + (f": {reason}" if reason else "")
    locked.save()
    return locked
