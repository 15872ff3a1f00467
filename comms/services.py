"""Writes of the comms app: status page components (the admin calls these)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from incidents.models import Service
from oncall.models import Team, User
from oncall.permissions import require_team_manager

from .models import Component, ComponentStatus

COMPONENT_FIELDS = {"name", "description", "position", "status_override", "override_reason"}


def _check(*, team: Team, services, status_override: str, override_reason: str) -> None:
    if status_override and status_override not in ComponentStatus.values:
        raise ValidationError({"status_override": f"Unknown status {status_override!r}; leave it blank or use one of "
                                                  f"{', '.join(ComponentStatus.values)}."})
    if override_reason and not status_override:
        raise ValidationError({"override_reason": "A reason only goes with a status set by hand; clear it."})
    foreign = sorted(s.slug for s in services if s.team_id != team.pk)
    if foreign:
        raise ValidationError({"services": f"Services of another team: {', '.join(foreign)}; "
                                           f"a component shows only its own team's services."})


@transaction.atomic
def create_component(*, team: Team, name: str, by: User | None, description: str = "",
                     services: list[Service] = (), position: int = 0, status_override: str = "",
                     override_reason: str = "") -> Component:
    """Add a component to ``team``'s status page. Only the team's leads and managers (or staff) may."""
    require_team_manager(by, team, to="change its status page")
    services = list(services)
    _check(team=team, services=services, status_override=status_override, override_reason=override_reason)
    component = Component(team=team, name=name.strip(), description=description.strip(), position=position,
                          status_override=status_override, override_reason=override_reason.strip())
    component.full_clean()
    component.save()
    component.services.set(services)
    return component


@transaction.atomic
def update_component(*, component: Component, by: User | None, services: list[Service] | None = None,
                     **fields) -> Component:
    """Change a component; its row is locked while it changes. ``services``, when given, replaces the mapping."""
    unknown = set(fields) - COMPONENT_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = Component.objects.select_for_update().select_related("team").get(pk=component.pk)
    require_team_manager(by, locked.team, to="change its status page")
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) and name != "status_override" else value)
    current = list(locked.services.all()) if services is None else list(services)
    _check(team=locked.team, services=current, status_override=locked.status_override,
           override_reason=locked.override_reason)
    locked.full_clean()
    locked.save()  # every field may have changed; updated_at moves the status page's ETag
    if services is not None:
        locked.services.set(current)
    return locked


@transaction.atomic
def delete_component(*, component: Component, by: User | None) -> None:
    """Take a component off the status page."""
    locked = Component.objects.select_for_update().select_related("team").get(pk=component.pk)
    require_team_manager(by, locked.team, to="change its status page")
    locked.delete()
