"""Incident checklists: created with each incident, ticked by people or by Vigil itself.

A tick (or untick) saves the item with its history, so it is a ``checklist``
event on the incident's timeline, with who did it (none: Vigil) and when.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from oncall.models import User

from ..models import ChecklistItem, ChecklistTemplateItem, Incident
from ..models.incident import OPEN_STATUSES


def create_checklist(*, incident: Incident, now: datetime | None = None) -> list[ChecklistItem]:
    """Copy the incident's severity's templates onto it and tick what is already true (its severity).

    Called by ``_announce`` inside the creation's transaction; idempotent.
    """
    if ChecklistItem.objects.filter(incident=incident).exists():
        return []
    now = now or incident.created_at or timezone.now()
    items = [
        ChecklistItem(incident=incident, phase=t.template.phase, position=t.position, text=t.text, auto=t.auto)
        for t in ChecklistTemplateItem.objects.filter(template__severity_id=incident.severity_id)
        .select_related("template")
    ]
    if not items:
        return []
    created = bulk_create_with_history(items, ChecklistItem, default_date=now)
    auto_tick(incident=incident, key="severity", now=now)
    return created


def _phase_of(incident: Incident) -> str:
    return "during" if incident.status in OPEN_STATUSES else "after"


def auto_tick(*, incident: Incident, key: str, now: datetime | None = None, phase: str | None = None) -> int:
    """Tick, as Vigil (no person), the undone items of ``incident`` with auto key ``key``.

    Only the items of ``phase`` (default: the incident's current one: during while open, after once
    resolved). Runs inside the caller's transaction; returns how many were ticked.
    """
    now = now or timezone.now()
    phase = phase or _phase_of(incident)
    items = list(ChecklistItem.objects.select_for_update()
                 .filter(incident=incident, auto=key, phase=phase, done_at__isnull=True))
    for item in items:
        _save_tick(item, by=None, done=True, now=now, reason="ticked by Vigil")
    return len(items)


def _save_tick(item: ChecklistItem, *, by: User | None, done: bool, now: datetime, reason: str) -> None:
    item.done_at = now if done else None
    item.done_by = by if done else None
    item._history_user = by
    item._history_date = now
    item._change_reason = reason
    item.save(update_fields=["done_at", "done_by"])


@transaction.atomic
def tick_checklist_item(*, item: ChecklistItem, by: User | None, done: bool, now: datetime | None = None
                        ) -> ChecklistItem:
    """Mark an item done (recording who and when) or not done. Locks the item; a tick of an item
    already in that state changes nothing and records nothing. ``by`` must be able to work the incident."""
    now = now or timezone.now()
    locked = ChecklistItem.objects.select_for_update().select_related("incident__team").get(pk=item.pk)
    # Who may work an incident is who may see it (its team, its responders, staff): ``can_work``'s rule,
    # read through the queryset because incident.py imports this module for its auto-ticks.
    if by is not None and not Incident.objects.visible_to(by).filter(pk=locked.incident_id).exists():
        raise PermissionDenied(f"You are not a member of team {locked.incident.team.slug} "
                               f"nor a responder to {locked.incident.number}.")
    if locked.done == done:
        return locked
    _save_tick(locked, by=by, done=done, now=now, reason="ticked" if done else "unticked")
    return locked

