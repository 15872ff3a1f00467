"""Every write to incidents goes through these functions.

Each one owns its transaction, locks the rows it changes, records the acting
user and reason in the history, and sends the signals other apps listen to.
Views, the API, the admin, chat commands and tasks call these; none of them
change incident models themselves.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from oncall.models import Team, User
from oncall.permissions import can_view_team

from .. import signals
from ..models import (
    Incident,
    IncidentSequence,
    Note,
    RoleAssignment,
    Service,
    Severity,
    Source,
    StatusUpdate,
)
from ..models.incident import TRANSITIONS


class IllegalTransition(Exception):
    """The incident's current status does not allow the requested transition."""

    def __init__(self, *, incident: Incident, transition: str, allowed: list[str]):
        self.incident = incident
        self.transition = transition
        self.status = incident.status
        self.allowed = allowed
        legal = ", ".join(allowed) or "none"
        super().__init__(
            f"Cannot {transition} {incident.number}: it is {incident.status}. Allowed now: {legal}."
        )


def allowed_transitions(incident: Incident) -> list[str]:
    """Names of the transitions legal from the incident's current status, in lifecycle order."""
    available = {t.name for t in incident.get_available_status_transitions()}
    return [name for name in TRANSITIONS if name in available]


def _check_can_act(by: User | None, team: Team) -> None:
    # by=None is the system itself (an alert, a task); people must belong to the team.
    if by is not None and not can_view_team(by, team):
        raise PermissionDenied(f"You are not a member of team {team.slug}.")


def _next_number(year: int) -> tuple[int, str]:
    # Insert-if-missing, then lock: concurrent creators queue on the row lock,
    # and a rolled-back creation rolls its increment back too (no gaps).
    IncidentSequence.objects.bulk_create([IncidentSequence(year=year, last=0)], ignore_conflicts=True)
    seq = IncidentSequence.objects.select_for_update().get(year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return seq.last, f"INC-{year}-{seq.last:04d}"


@transaction.atomic
def create_incident(
    *,
    title: str,
    severity: Severity,
    team: Team,
    by: User | None,
    services: list[Service] | tuple = (),
    category: str = "other",
    description: str = "",
    impact: str = "",
    started_at: datetime | None = None,
    users_affected: int | None = None,
    revenue_impact=None,
    customer_facing: bool = False,
    source: str = Source.FORM,
    now: datetime | None = None,
) -> Incident:
    """Declare an incident. Numbers are unique and gap-free per year."""
    now = now or timezone.now()
    _check_can_act(by, team)
    if started_at and started_at > now:
        raise ValidationError({"started_at": "Impact cannot start in the future."})
    sequence, number = _next_number(now.year)
    incident = Incident(
        number=number, year=now.year, sequence=sequence,
        title=title, description=description, severity=severity, category=category, team=team,
        impact=impact, started_at=started_at, users_affected=users_affected,
        revenue_impact=revenue_impact, customer_facing=customer_facing,
        declared_by=by, source=source, created_at=now,
    )
    incident.full_clean(exclude=["number", "year", "sequence", "services", "status"])
    incident._history_user = by
    incident._change_reason = f"Declared via {Source(source).label.lower()}"
    incident.save()
    if services:
        incident.services.set(services)
    signals.incident_created.send(sender=Incident, incident=incident, by=by, transition="create")
    return incident


@transaction.atomic
def transition_incident(
    *, incident: Incident, transition: str, by: User | None, note: str = "", now: datetime | None = None
) -> Incident:
    """Move an incident through its lifecycle.

    Locks the incident row first, so two responders acknowledging at once
    produce one transition; the second gets IllegalTransition (it is already
    acknowledged). Stamps the transition's time, records who and why.
    """
    now = now or timezone.now()
    if transition not in TRANSITIONS:
        raise ValidationError({"transition": f"Unknown transition {transition!r}; use one of {', '.join(TRANSITIONS)}."})
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    _check_can_act(by, locked.team)
    allowed = allowed_transitions(locked)
    if transition not in allowed:
        raise IllegalTransition(incident=locked, transition=transition, allowed=allowed)
    getattr(locked, transition)(now=now)
    locked._history_user = by
    locked._change_reason = note[:100] if note else ""
    locked.save()
    _after_transition(locked, transition, by)
    return locked


def _after_transition(incident: Incident, transition: str, by: User | None) -> None:
    signals.incident_transitioned.send(sender=Incident, incident=incident, by=by, transition=transition)
    if transition == "resolve":
        signals.incident_resolved.send(sender=Incident, incident=incident, by=by, transition=transition)
    elif transition == "reopen":
        signals.incident_reopened.send(sender=Incident, incident=incident, by=by, transition=transition)


def acknowledge_incident(*, incident: Incident, by: User | None, note: str = "", now=None) -> Incident:
    return transition_incident(incident=incident, transition="acknowledge", by=by, note=note, now=now)


def resolve_incident(*, incident: Incident, by: User | None, note: str = "", now=None) -> Incident:
    return transition_incident(incident=incident, transition="resolve", by=by, note=note, now=now)


EDITABLE_FIELDS = {
    "title", "description", "severity", "category", "impact", "started_at",
    "users_affected", "revenue_impact", "customer_facing",
}


@transaction.atomic
def update_incident(
    *, incident: Incident, by: User | None, services: list[Service] | None = None, reason: str = "", **fields
) -> Incident:
    """Change an incident's details (not its status: that is transition_incident)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    _check_can_act(by, locked.team)
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, fields[name])
    if "started_at" in changed and locked.started_at and locked.started_at > locked.created_at:
        raise ValidationError({"started_at": "Impact start must not be after the incident was declared."})
    if changed:
        locked.full_clean(exclude=["number", "year", "sequence", "services", "status"])
        locked._history_user = by
        locked._change_reason = reason[:100]
        locked.save(update_fields=[*changed, "updated_at"])
    if services is not None:
        locked.services.set(services)
    return locked


@transaction.atomic
def assign_role(
    *, incident: Incident, role: str, user: User, by: User | None, now: datetime | None = None
) -> RoleAssignment:
    """Give someone a role. A single-seat role changes hands; experts accumulate.

    Idempotent: assigning the current holder again changes nothing.
    """
    now = now or timezone.now()
    if role not in RoleAssignment.Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; use one of {', '.join(RoleAssignment.Role.values)}."})
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    _check_can_act(by, locked.team)
    if not user.is_active:
        raise ValidationError({"user": f"{user.username} is deactivated."})
    existing = RoleAssignment.objects.select_for_update().filter(incident=locked, role=role)
    if role == RoleAssignment.Role.SME:
        existing = existing.filter(user=user)
    assignment = existing.first()
    if assignment is not None and assignment.user_id == user.pk:
        return assignment
    if assignment is None:
        assignment = RoleAssignment(incident=locked, role=role, user=user)
        reason = "assigned"
    else:
        assignment.user = user
        reason = "replaced"
    assignment.assigned_by = by
    assignment.assigned_at = now
    assignment._history_user = by
    assignment._change_reason = reason
    assignment.save()
    return assignment


@transaction.atomic
def remove_role(*, assignment: RoleAssignment, by: User | None) -> None:
    _check_can_act(by, assignment.incident.team)
    assignment._history_user = by
    assignment._change_reason = "removed"
    assignment.delete()


@transaction.atomic
def add_note(*, incident: Incident, body: str, by: User | None, now: datetime | None = None) -> Note:
    _check_can_act(by, incident.team)
    body = body.strip()
    if not body:
        raise ValidationError({"body": "A note needs some text."})
    return Note.objects.create(incident=incident, author=by, body=body, created_at=now or timezone.now())


@transaction.atomic
def post_status_update(
    *, incident: Incident, state: str, body: str, public: bool = False, by: User | None,
    now: datetime | None = None,
) -> StatusUpdate:
    _check_can_act(by, incident.team)
    if state not in StatusUpdate.State.values:
        raise ValidationError({"state": f"Unknown state {state!r}; use one of {', '.join(StatusUpdate.State.values)}."})
    body = body.strip()
    if not body:
        raise ValidationError({"body": "An update needs some text."})
    return StatusUpdate.objects.create(
        incident=incident, state=state, body=body, public=public, author=by, created_at=now or timezone.now()
    )
