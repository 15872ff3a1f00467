"""Writes for the service catalogue: the services incidents affect.

Only a team's leads and managers (or staff) may add or change its services;
moving a service to another team needs that right on both teams.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from oncall.models import Team, User
from oncall.permissions import require_team_manager

from ..models import Service

SERVICE_FIELDS = {"slug", "name", "team", "description", "runbook_url", "runbook"}


@transaction.atomic
def create_service(
    *, slug: str, name: str, team: Team, by: User | None, description: str = "", runbook_url: str = "",
    runbook: str = "",
) -> Service:
    """Add a service to a team's catalogue. Validates the slug's uniqueness and the URL."""
    require_team_manager(by, team, to="change its services")
    service = Service(
        slug=slug, name=name, team=team, description=description, runbook_url=runbook_url, runbook=runbook
    )
    service.full_clean()
    service._history_user = by
    service._change_reason = "created"
    service.save()
    return service


@transaction.atomic
def update_service(*, service: Service, by: User | None, reason: str = "", **fields) -> Service:
    """Change a service's details; locks its row so concurrent edits apply one after the other."""
    unknown = set(fields) - SERVICE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = Service.objects.select_for_update().get(pk=service.pk)
    require_team_manager(by, locked.team, to="change its services")
    if "team" in fields and fields["team"].pk != locked.team_id:
        require_team_manager(by, fields["team"], to="change its services")
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    if changed:
        for name in changed:
            setattr(locked, name, fields[name])
        locked.full_clean()
        locked._history_user = by
        locked._change_reason = reason[:100] or f"changed {', '.join(changed)}"
        locked.save(update_fields=changed)
    return locked
