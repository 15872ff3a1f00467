"""Every write to incidents goes through these functions.

Each one owns its transaction, locks the rows it changes, records the acting
user and reason in the history, and sends the signals other apps listen to.
Views, the API, the admin, chat commands and tasks call these; none of them
change incident models themselves.
"""

from datetime import datetime, timedelta
from functools import cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core.instants import check_instant
from oncall.models import Team, User
from oncall.permissions import can_view_team

from .. import signals
from ..guards import ClosingRefused, closing_refusal
from ..models import (
    Incident,
    IncidentSequence,
    Note,
    Responder,
    RoleAssignment,
    Service,
    Severity,
    Source,
    StatusUpdate,
)
from ..models.incident import TRANSITIONS
from .checklist import auto_tick, create_checklist


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


def can_work(user, incident: Incident) -> bool:
    """Members of the incident's team, its responders (paged into it from elsewhere) and staff."""
    return can_view_team(user, incident.team) or Responder.objects.filter(incident=incident, user=user).exists()


def _check_can_work(by: User | None, incident: Incident) -> None:
    if by is not None and not can_work(by, incident):
        raise PermissionDenied(f"You are not a member of team {incident.team.slug} nor a responder to {incident.number}.")


def count_sql(row: str) -> str:
    """SQL that increments the year's incident counter and returns the new value; ``row`` is the
    ``(year, 1)`` to insert for the year's first incident (a VALUES list or a SELECT)."""
    seq = IncidentSequence._meta.db_table
    return (f"INSERT INTO {seq} (year, last) {row} "  # noqa: S608 - our table; values are parameters
            f"ON CONFLICT (year) DO UPDATE SET last = {seq}.last + 1 RETURNING last")


def number_sql(year: str, sequence: str) -> str:
    """PostgreSQL for an incident number, ``INC-<year>-<NNNN>`` (at least 4 digits), from SQL expressions.

    The SQLite path formats the same in Python (``_number``).
    """
    return f"'INC-' || {year} || '-' || lpad({sequence}::text, greatest(4, length({sequence}::text)), '0')"


# Numbering is the last write of a creation: the per-year counter row it
# increments stays locked until the transaction ends, and every other creation
# of the year queues on that lock, so everything else (the incident row, its
# history, services, an alert's rows) is written first. One upsert: the first
# incident of a year inserts the counter row, every later one increments it; a
# rolled-back creation rolls the increment back too, so numbers stay gap-free.
# On PostgreSQL the counter, the incident and its creation history row are
# numbered in ONE statement (data-modifying CTEs), so the lock is held for that
# statement and the COMMIT only.
@cache
def _number_sql() -> str:
    """The statement of the comment above (built once: the history model exists only once apps are ready)."""
    history = Incident.history.model._meta.db_table
    return f"""
WITH seq AS (
    {count_sql("VALUES (%(year)s, 1)")}
), inc AS (
    UPDATE {Incident._meta.db_table} SET sequence = seq.last, number = {number_sql("%(year)s", "seq.last")}
    FROM seq WHERE id = %(id)s RETURNING sequence, number
), history AS (
    UPDATE {history} h SET sequence = inc.sequence, number = inc.number
    FROM inc WHERE h.id = %(id)s AND h.number IS NULL
)
SELECT sequence, number FROM inc
"""  # noqa: S608 - our tables; values are parameters


def _number(incident: Incident) -> None:
    """Give a new incident its gap-free ``INC-<year>-<NNNN>`` (see _number_sql)."""
    history = Incident.history.model._meta.db_table
    year = incident.year
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_number_sql(), {"year": year, "id": incident.pk})
            incident.sequence, incident.number = cursor.fetchone()
            return
        cursor.execute(count_sql("VALUES (%s, 1)"), [year])
        incident.sequence = cursor.fetchone()[0]
        incident.number = f"INC-{year}-{incident.sequence:04d}"
        values = [incident.sequence, incident.number, incident.pk]
        cursor.execute(f"UPDATE {Incident._meta.db_table} SET sequence = %s, number = %s WHERE id = %s", values)  # noqa: S608
        cursor.execute(f"UPDATE {history} SET sequence = %s, number = %s WHERE id = %s AND number IS NULL", values)  # noqa: S608


@transaction.atomic
def create_incident(**fields) -> Incident:
    """Declare an incident; the arguments are ``_create_incident``'s. Numbers are unique and gap-free per year."""
    incident = _create_incident(**fields)
    return _announce(incident, incident.declared_by)


def _create_incident(
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
    """An incident stored with its history and services, not yet numbered nor announced.

    ``create_incident`` is this plus ``_announce`` in one transaction. Alert
    ingestion calls it inside its own transaction (no savepoint of its own)
    and runs ``_announce`` after its own writes, so the number comes last.
    """
    now = now or timezone.now()
    _check_can_act(by, team)
    check_started_at(started_at, now=now)
    incident = Incident(
        year=now.year, title=title, description=description, severity=severity, category=category, team=team,
        impact=impact, started_at=started_at, users_affected=users_affected,
        revenue_impact=revenue_impact, customer_facing=customer_facing,
        declared_by=by, source=source, created_at=now,
    )
    # A team or severity given as a model instance exists (the foreign key
    # makes sure anyway): checking it here would be a query each.
    given = [name for name, value in (("team", team), ("severity", severity), ("declared_by", by)) if value]
    incident.full_clean(exclude=["number", "year", "sequence", "services", "status", *given])
    incident._history_user = by
    incident._change_reason = f"Declared via {Source(source).label.lower()}"
    incident.save()  # unnumbered until _announce: the number is the creation's last write
    if services:
        incident.services.add(*services)  # a new incident has none: no need to compare (set)
    return incident


def _announce(incident: Incident, by: User | None) -> Incident:
    """Number a new incident, then tell the other apps it exists: a creation's last step."""
    _number(incident)
    create_checklist(incident=incident, now=incident.created_at)
    signals.incident_created.send(sender=Incident, incident=incident, by=by, transition="create",
                                  now=incident.created_at)
    return incident


@transaction.atomic
def transition_incident(
    *, incident: Incident, transition: str, by: User | None, note: str = "", now: datetime | None = None,
    override_reason: str = "",
) -> Incident:
    """Move an incident through its lifecycle.

    Locks the incident row first, so two responders acknowledging at once
    produce one transition; the second gets IllegalTransition (it is already
    acknowledged). Stamps the transition's time, records who and why. An
    incident acknowledged again after a reopen keeps its first
    ``acknowledged_at`` (MTTA measures the first acknowledgement).
    """
    now = now or timezone.now()
    if transition not in TRANSITIONS:
        raise ValidationError({"transition": f"Unknown transition {transition!r}; use one of {', '.join(TRANSITIONS)}."})
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    _check_can_work(by, locked)
    allowed = allowed_transitions(locked)
    if transition not in allowed:
        raise IllegalTransition(incident=locked, transition=transition, allowed=allowed)
    reason = note[:100] if note else ""
    if transition == "close":  # other apps' guards (incidents.guards): a required postmortem published first
        reason = _guarded_close(locked, by, override_reason, reason)
    getattr(locked, transition)(now=now)
    locked._history_user = by
    locked._change_reason = reason
    locked.save()
    _after_transition(locked, transition, by, now)
    return locked


def _guarded_close(incident: Incident, by: User | None, override_reason: str, reason: str) -> str:
    """Refuse (ClosingRefused) a close that a registered guard refuses, unless staff give an override reason;
    returns the change reason to record, which then says who overrode what, and why."""
    refusal = closing_refusal(incident)
    if refusal is None:
        return reason
    override = override_reason.strip()
    if not override or by is None or not by.is_staff:
        if override:
            raise ClosingRefused(f"{refusal.message} Only staff may close it anyway.", code=refusal.code,
                                 incident=incident)
        raise refusal
    return f"Closed by staff override ({refusal.code}): {override}" + (f"; {reason}" if reason else "")


def _after_transition(incident: Incident, transition: str, by: User | None, now: datetime) -> None:
    if transition == "resolve":
        auto_tick(incident=incident, key="resolution", phase="after", now=now)
    signals.incident_transitioned.send(sender=Incident, incident=incident, by=by, transition=transition, now=now)
    if transition == "resolve":
        signals.incident_resolved.send(sender=Incident, incident=incident, by=by, transition=transition, now=now)
    elif transition == "reopen":
        signals.incident_reopened.send(sender=Incident, incident=incident, by=by, transition=transition, now=now)


def acknowledge_incident(*, incident: Incident, by: User | None, note: str = "", now=None) -> Incident:
    return transition_incident(incident=incident, transition="acknowledge", by=by, note=note, now=now)


@transaction.atomic
def resolve_incident(*, incident: Incident, by: User | None, note: str = "", summary: str = "",
                     root_cause: str | None = None, update_body: str = "", update_public: bool = False,
                     now=None) -> Incident:
    """Resolve, in one step: the resolution summary (and the root cause, when given) stored on the incident,
    and, with ``update_body``, the resolution update posted (public: on the status page). All or nothing."""
    now = now or timezone.now()
    summary = summary.strip()
    resolved = transition_incident(incident=incident, transition="resolve", by=by, note=note, now=now)
    fields = {"resolution_summary": summary} if summary else {}
    if root_cause is not None and root_cause.strip() != resolved.root_cause:
        fields["root_cause"] = root_cause.strip()
    if fields:
        resolved = update_incident(incident=resolved, by=by, now=now, **fields)
    if update_body.strip():
        post_status_update(incident=resolved, state=StatusUpdate.State.RESOLVED, body=update_body,
                           public=update_public, by=by, now=now)
    return resolved


EDITABLE_FIELDS = {
    "title", "description", "severity", "category", "impact", "started_at",
    "users_affected", "revenue_impact", "customer_facing", "root_cause", "resolution_summary",
}


MAX_UPDATE_PROMISE = timedelta(days=7)


def check_started_at(started_at: datetime | None, *, now: datetime | None = None,
                     declared_at: datetime | None = None) -> None:
    """Refuse an impact start that cannot be stored and read back, or that lies after the
    incident was declared (``declared_at``) or, for one being declared, in the future."""
    check_instant(started_at, "started_at")
    if started_at is None:
        return
    if declared_at is not None:
        if started_at > declared_at:
            raise ValidationError({"started_at": "Impact start must not be after the incident was declared."})
    elif started_at > (now or timezone.now()):
        raise ValidationError({"started_at": "Impact cannot start in the future."})


@transaction.atomic
def update_incident(
    *, incident: Incident, by: User | None, services: list[Service] | None = None, reason: str = "",
    now: datetime | None = None, **fields
) -> Incident:
    """Change an incident's details (not its status: that is transition_incident)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    _check_can_work(by, locked)
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, fields[name])
    if "started_at" in changed:
        check_started_at(locked.started_at, declared_at=locked.created_at)
    if changed:
        locked.full_clean(exclude=["number", "year", "sequence", "services", "status"])
        locked._history_user = by
        locked._change_reason = reason[:100]
        locked.save(update_fields=[*changed, "updated_at"])
    if services is not None:
        locked.services.set(services)
    if changed:
        signals.incident_updated.send(sender=Incident, incident=locked, by=by, transition="update", changed=changed,
                                      now=now or timezone.now())
    return locked


def add_responders(*, incident: Incident, users, by: User | None, via: str, now: datetime | None = None) -> None:
    """Make ``users`` responders of ``incident`` (idempotent: someone already responding keeps their first
    entry, by the unique constraint). Called by paging in its own transaction; the caller has checked that
    ``by`` may page."""
    now = now or timezone.now()
    if via not in Responder.Via.values:
        raise ValidationError({"via": f"Unknown way {via!r}; use one of {', '.join(Responder.Via.values)}."})
    Responder.objects.bulk_create(
        [Responder(incident=incident, user=u, added_by=by, added_at=now, via=via)
         for u in {u.pk: u for u in users}.values()],
        ignore_conflicts=True,
    )


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
    _check_can_work(by, locked)
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
    if role == RoleAssignment.Role.COMMANDER:
        auto_tick(incident=locked, key="commander", phase="during", now=now)
    add_responders(incident=locked, users=[user], by=by, via=Responder.Via.ROLE, now=now)
    return assignment


@transaction.atomic
def remove_role(*, assignment: RoleAssignment, by: User | None) -> None:
    _check_can_work(by, assignment.incident)
    assignment._history_user = by
    assignment._change_reason = "removed"
    assignment.delete()


@transaction.atomic
def add_note(*, incident: Incident, body: str, by: User | None, now: datetime | None = None) -> Note:
    _check_can_work(by, incident)
    body = body.strip()
    if not body:
        raise ValidationError({"body": "A note needs some text."})
    return Note.objects.create(incident=incident, author=by, body=body, created_at=now or timezone.now())


@transaction.atomic
def post_status_update(
    *, incident: Incident, state: str, body: str, public: bool = False, by: User | None,
    next_update_at: datetime | None = None, now: datetime | None = None,
) -> StatusUpdate:
    """Post a stakeholder update; ``next_update_at`` promises the next one (a reminder goes out when it
    passes unkept, ``comms``). Any later update keeps or replaces the promise."""
    _check_can_work(by, incident)
    if state not in StatusUpdate.State.values:
        raise ValidationError({"state": f"Unknown state {state!r}; use one of {', '.join(StatusUpdate.State.values)}."})
    body = body.strip()
    if not body:
        raise ValidationError({"body": "An update needs some text."})
    now = now or timezone.now()
    if next_update_at is not None:
        check_instant(next_update_at, "next_update_at")
        if state == StatusUpdate.State.RESOLVED or not incident.is_open:
            raise ValidationError({"next_update_at": "A resolved incident owes no next update; leave it empty."})
        if not now < next_update_at <= now + MAX_UPDATE_PROMISE:
            raise ValidationError({"next_update_at": "The next update must be due in the future, and within "
                                                     f"{MAX_UPDATE_PROMISE.days} days."})
    update = StatusUpdate.objects.create(
        incident=incident, state=state, body=body, public=public, author=by, created_at=now,
        next_update_at=next_update_at,
    )
    if public:  # "status page updated", in the phase the incident is in (during while open, after once resolved)
        auto_tick(incident=incident, key="status_page", now=now)
    signals.status_update_posted.send(sender=Incident, incident=incident, by=by, transition="status_update",
                                      update=update, now=now)
    return update


@transaction.atomic
def quick_declare(*, title: str, severity: Severity, team: Team, by: User, commander: bool = True,
                  now: datetime | None = None) -> Incident:
    """Declare an incident from the dashboard's short form; with ``commander``, ``by`` takes command of it
    and it starts acknowledged by them (so their own escalation pages nobody).

    All or nothing: one transaction, so an incident is never left declared without the commander
    its declarer asked to be. Raises what ``create_incident``, ``assign_role`` and
    ``acknowledge_incident`` raise.
    """
    now = now or timezone.now()
    incident = create_incident(title=title, severity=severity, team=team, by=by, source=Source.FORM, now=now)
    if commander:
        assign_role(incident=incident, role=RoleAssignment.Role.COMMANDER, user=by, by=by, now=now)
        incident = acknowledge_incident(incident=incident, by=by, note="Declared by its commander", now=now)
    return incident
