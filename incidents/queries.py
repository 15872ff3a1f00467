"""Read side for incidents: selectors shared by pages, the API and reports."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet

from .models import (
    ChecklistItem,
    Incident,
    MaintenanceWindow,
    Note,
    RoleAssignment,
    Service,
    StatusUpdate,
)


def incidents_for(user) -> QuerySet[Incident]:
    """Incidents the user may see, with everything a list row shows, in a constant number of queries."""
    return (
        Incident.objects.visible_to(user)
        .select_related("severity", "team", "declared_by")
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.only("id", "slug", "name", "runbook_url")),
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.select_related("user"),
            ),
        )
    )


def services_for(user) -> QuerySet[Service]:
    return Service.objects.visible_to(user).select_related("team")


def commander_of(incident: Incident):
    """The incident commander, read from prefetched role assignments when present."""
    for assignment in incident.role_assignments.all():
        if assignment.role == RoleAssignment.Role.COMMANDER:
            return assignment.user
    return None


# --- Timeline ------------------------------------------------------------------

@dataclass
class TimelineEvent:
    at: datetime
    kind: str
    actor: object  # a User or None for the system
    summary: str
    data: dict = field(default_factory=dict)


TimelineSource = Callable[[Incident], list[TimelineEvent]]
_extra_sources: list[TimelineSource] = []


def register_timeline_source(source: TimelineSource) -> None:
    """Let another module (alerts, escalation, postmortems) add events to every timeline."""
    if source not in _extra_sources:
        _extra_sources.append(source)


_TRANSITION_OF = {
    "acknowledged": "acknowledge", "investigating": "investigate", "identified": "identify",
    "monitoring": "mitigate", "resolved": "resolve", "closed": "close",
}
_FIELD_SKIP = {"status", "acknowledged_at", "investigating_at", "identified_at", "mitigated_at",
               "resolved_at", "closed_at", "history_change_reason"}
# A foreign key changes from one id to another; the timeline names them as the API does.
_REFERENCES = {"severity": "name", "team": "slug", "declared_by": "username"}
_SHOWN_LENGTH = 60


def _value(v):
    if isinstance(v, datetime):
        return v.isoformat()
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return str(v)


def _shown(v) -> str:
    """A value as the summary line shows it: short, and saying so when empty."""
    if v is None or v == "":
        return "(none)"
    if isinstance(v, bool):
        return "yes" if v else "no"
    text = " ".join(str(_value(v)).split())
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"


def _reference_names(changes) -> dict[str, dict]:
    """``{field: {id: name}}`` for the foreign keys among ``changes``: one query per field changed."""
    wanted: dict[str, set] = {}
    for change in changes:
        if change.field in _REFERENCES:
            wanted.setdefault(change.field, set()).update(v for v in (change.old, change.new) if v is not None)
    return {
        name: dict(Incident._meta.get_field(name).related_model._default_manager
                   .filter(pk__in=ids).values_list("pk", _REFERENCES[name]))
        for name, ids in wanted.items()
    }


def _incident_events(incident: Incident) -> list[TimelineEvent]:
    records = list(incident.history.select_related("history_user").order_by("history_date", "history_id"))
    deltas, previous = [], None  # (history row, its field changes against the one before)
    for record in records:
        if record.history_type == "+":
            deltas.append((record, []))
        elif previous is not None:
            deltas.append((record, record.diff_against(previous).changes))
        previous = record
    names = _reference_names(change for _, changes in deltas for change in changes)
    events = []
    for record, changes in deltas:
        actor = record.history_user
        reason = record.history_change_reason or ""
        if record.history_type == "+":
            events.append(TimelineEvent(
                record.history_date, "created", actor, f"{incident.number} declared: {record.title}",
                {"status": record.status, "reason": reason},
            ))
        for change in changes:
            if change.field == "status":
                transition = "reopen" if change.new == "triggered" else _TRANSITION_OF.get(change.new, "")
                summary = f"Status {change.old} → {change.new}"
                if reason:
                    summary += f": {reason}"
                events.append(TimelineEvent(
                    record.history_date, "status_changed", actor, summary,
                    {"from": change.old, "to": change.new, "transition": transition, "note": reason},
                ))
            elif change.field not in _FIELD_SKIP:
                known = names.get(change.field, {})
                old, new = _value(known.get(change.old, change.old)), _value(known.get(change.new, change.new))
                summary = f"{change.field.replace('_', ' ')} {_shown(old)} → {_shown(new)}"
                if reason:
                    summary += f": {reason}"
                # old/new, and from/to as status changes have them (the names the API first served).
                events.append(TimelineEvent(
                    record.history_date, "field_changed", actor, summary,
                    {"field": change.field, "old": old, "new": new, "from": old, "to": new, "reason": reason},
                ))
    return events


def _role_events(incident: Incident) -> list[TimelineEvent]:
    records = (
        RoleAssignment.history.filter(incident_id=incident.pk)
        .select_related("history_user", "user")
        .order_by("history_date", "history_id")
    )
    labels = dict(RoleAssignment.Role.choices)
    events = []
    for record in records:
        label = labels.get(record.role, record.role)
        who = record.user.display_name if record.user else "?"
        if record.history_type == "-":
            kind, summary = "role_removed", f"{who} is no longer {label}"
        else:
            kind, summary = "role_assigned", f"{who} is {label}"
        events.append(TimelineEvent(
            record.history_date, kind, record.history_user, summary,
            {"role": record.role, "user": record.user.username if record.user else None,
             "change": record.history_change_reason or ""},
        ))
    return events


def _note_events(incident: Incident) -> list[TimelineEvent]:
    return [
        TimelineEvent(n.created_at, "note", n.author, n.body, {"id": n.pk})
        for n in Note.objects.filter(incident=incident).select_related("author")
    ]


def _update_events(incident: Incident) -> list[TimelineEvent]:
    return [
        TimelineEvent(u.created_at, "status_update", u.author, u.body,
                      {"id": u.pk, "state": u.state, "public": u.public})
        for u in StatusUpdate.objects.filter(incident=incident).select_related("author")
    ]


def _checklist_events(incident: Incident) -> list[TimelineEvent]:
    # Items are created with the incident ("+" rows): only ticks and unticks are events, and only
    # people's: what Vigil ticks itself follows an event already on the timeline (the declaration,
    # a commander's role, a public update, the resolution).
    records = (
        ChecklistItem.history.filter(incident_id=incident.pk, history_type="~", history_user__isnull=False)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    events = []
    for record in records:
        done = record.done_at is not None
        summary = f"{'Done' if done else 'Not done'}: {record.text}"
        events.append(TimelineEvent(
            record.history_date, "checklist", record.history_user, summary,
            {"item": record.id, "phase": record.phase, "text": record.text, "done": done},
        ))
    return events


def checklist(incident: Incident) -> list[ChecklistItem]:
    """The incident's checklist items, in phase then position order, with who ticked them: one query."""
    return list(ChecklistItem.objects.filter(incident=incident).select_related("done_by")
                .order_by("-phase", "position"))  # "during" sorts after "after": descending puts it first


def timeline(incident: Incident) -> list[TimelineEvent]:
    """Every event of an incident, oldest first: history, roles, notes, updates, checklist ticks, and registered extras."""
    events: list[TimelineEvent] = []
    for source in (_incident_events, _role_events, _note_events, _update_events, _checklist_events,
                   *_extra_sources):
        events.extend(source(incident))
    # Creation first: the alert that opens an incident carries the instant the event arrived,
    # a moment before the incident's creation is recorded, yet belongs after it.
    events.sort(key=lambda e: (e.kind != "created", e.at))
    return events


def open_incidents_by_severity_and_team() -> list[dict]:
    """Counts of unresolved incidents per (severity, team), for the ``vigil_incidents_open`` gauge."""
    return list(
        Incident.objects.open()
        .values("severity__name", "team__slug")
        .annotate(n=Count("id"))
        .order_by("severity__name", "team__slug")
    )


def maintenance_windows_for(service: Service) -> QuerySet[MaintenanceWindow]:
    return MaintenanceWindow.objects.filter(service=service).select_related("created_by")


def maintenance_windows_for_user(user) -> QuerySet[MaintenanceWindow]:
    return MaintenanceWindow.objects.filter(
        service__in=Service.objects.visible_to(user)
    ).select_related("service", "created_by")
