"""Writes of maintenance windows: while one is active its service's alerts open no incident."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.instants import check_instant
from oncall.models import User
from oncall.permissions import require_team_manager

from ..models import MaintenanceWindow, Service


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    """Refuse a window that ends before it starts or lies beyond the dates Vigil accepts."""
    check_instant(starts_at, "starts_at")  # stored beyond the range, the row could not be read back
    check_instant(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The window must end after it starts."})


@transaction.atomic
def create_maintenance_window(
    *, service: Service, starts_at: datetime, ends_at: datetime, by: User | None, reason: str = ""
) -> MaintenanceWindow:
    require_team_manager(by, service.team, to="plan its maintenance")
    check_window(starts_at, ends_at)
    return MaintenanceWindow.objects.create(
        service=service, starts_at=starts_at, ends_at=ends_at, reason=reason.strip(), created_by=by
    )


@transaction.atomic
def update_maintenance_window(
    *, window: MaintenanceWindow, starts_at: datetime, ends_at: datetime, by: User | None, reason: str = ""
) -> MaintenanceWindow:
    """Move or re-explain a window (the admin's change form); the row is locked while it changes."""
    locked = MaintenanceWindow.objects.select_for_update().select_related("service__team").get(pk=window.pk)
    require_team_manager(by, locked.service.team, to="plan its maintenance")
    check_window(starts_at, ends_at)
    locked.starts_at, locked.ends_at, locked.reason = starts_at, ends_at, reason.strip()
    locked.save(update_fields=["starts_at", "ends_at", "reason"])
    return locked


@transaction.atomic
def end_maintenance_window(*, window: MaintenanceWindow, by: User | None, now: datetime | None = None) -> None:
    """End a window now (or delete it if it has not started yet)."""
    now = now or timezone.now()
    locked = MaintenanceWindow.objects.select_for_update().select_related("service__team").get(pk=window.pk)
    require_team_manager(by, locked.service.team, to="plan its maintenance")
    if locked.starts_at >= now:
        locked.delete()
    elif locked.ends_at > now:
        locked.ends_at = now
        locked.save(update_fields=["ends_at"])
