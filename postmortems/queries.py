"""Read side of postmortems: policies, the draft's facts, lists, the closing guard and the timeline source.

Every list here runs a constant number of queries, however many rows it holds.
"""

from datetime import datetime

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    When,
)

from incidents.models import Incident, Responder, RoleAssignment, Severity
from incidents.queries import TimelineEvent, commander_of, register_timeline_source
from oncall.models import Team, User
from paging.queries import notifications_of

from .models import (
    ActionItem,
    ActionItemStatus,
    ContributingFactor,
    FactorTag,
    Postmortem,
    PostmortemEvent,
    PostmortemPolicy,
    PostmortemStatus,
    Review,
    ReviewMeeting,
)
from .models.action_item import ACTIVE_STATUSES

# What a severity without a policy row gets: the seeded defaults (transactional tests flush the seed).
DEFAULT_POLICIES = {"SEV1": (True, 48), "SEV2": (True, 7 * 24)}


def policy_for(severity: Severity) -> PostmortemPolicy:
    """The severity's postmortem policy: its row, else the default (SEV1 48 h, SEV2 7 days, others optional)."""
    found = PostmortemPolicy.objects.filter(severity=severity).first()
    if found is not None:
        return found
    required, hours = DEFAULT_POLICIES.get(severity.name, (False, None))
    return PostmortemPolicy(severity=severity, required=required, due_hours=hours)


# --- The draft's facts -------------------------------------------------------------

def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(int((end - start).total_seconds()), 0)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def durations(incident: Incident) -> dict[str, int | None]:
    """Seconds, as the reports measure them (API.md): detect = declared − impact start; acknowledge,
    mitigate and resolve from the declaration; impact from its start (or the declaration) to resolution.
    None where a time is unknown."""
    return {
        "detect": _seconds(incident.started_at, incident.created_at),
        "acknowledge": _seconds(incident.created_at, incident.acknowledged_at),
        "mitigate": _seconds(incident.created_at, incident.mitigated_at),
        "resolve": _seconds(incident.created_at, incident.resolved_at),
        "impact": _seconds(incident.started_at or incident.created_at, incident.resolved_at),
    }


def incident_facts(incident: Incident) -> dict:
    """What a postmortem's draft records of its incident: fields, durations, roles, responders, pages sent."""
    roles = RoleAssignment.objects.filter(incident=incident).select_related("user").order_by("role", "assigned_at")
    responders = Responder.objects.filter(incident=incident).select_related("user").order_by("added_at", "id")
    pages = notifications_of(incident)
    return {
        "number": incident.number,
        "title": incident.title,
        "severity": incident.severity.name,
        "category": incident.category,
        "team": incident.team.slug,
        "services": sorted(incident.services.values_list("name", flat=True)),
        "customer_facing": incident.customer_facing,
        "started_at": _iso(incident.started_at),
        "created_at": _iso(incident.created_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "mitigated_at": _iso(incident.mitigated_at),
        "resolved_at": _iso(incident.resolved_at),
        "durations": durations(incident),
        "roles": [{"role": r.role, "label": r.get_role_display(), "user": r.user.username,
                   "name": r.user.display_name} for r in roles],
        "responders": [{"user": r.user.username, "name": r.user.display_name, "via": r.via} for r in responders],
        "pages": [{"user": n.user.username if n.user_id else None, "to": n.recipient, "channel": n.channel,
                   "status": n.status, "at": _iso(n.sent_at or n.created_at)} for n in pages],
    }


def prefill(incident: Incident, facts: dict) -> dict:
    """The draft's text, from the incident: what it says happened, its impact and cause, how it was found
    and who responded."""
    summary = incident.description.strip() or incident.title
    if getattr(incident, "resolution_summary", ""):
        summary += f"\n\n**Resolution:** {incident.resolution_summary.strip()}"
    if incident.source == "alert":
        detection = "An alert declared the incident."
    else:
        who = incident.declared_by.display_name if incident.declared_by else "Vigil"
        detection = f"{who} declared the incident ({incident.get_source_display().lower()})."
    response = []
    if facts["roles"]:
        response.append("Roles: " + "; ".join(f"{r['label']}: {r['name']}" for r in facts["roles"]) + ".")
    if facts["responders"]:
        response.append("Responders: " + ", ".join(r["name"] for r in facts["responders"]) + ".")
    sent = [p for p in facts["pages"] if p["status"] == "sent"]
    if facts["pages"]:
        response.append(f"Pages: {len(facts['pages'])} ({len(sent)} delivered).")
    return {
        "summary": summary,
        "impact": incident.impact,
        "users_affected": incident.users_affected,
        "revenue_impact": incident.revenue_impact,
        "root_cause": getattr(incident, "root_cause", ""),
        "detection": detection,
        "response": "\n\n".join(response),
    }


# --- Lists -------------------------------------------------------------------------

def postmortems_for(user) -> QuerySet[Postmortem]:
    """Postmortems the user may see, with what a list row shows, in a constant number of queries."""
    return (
        Postmortem.objects.visible_to(user)
        .select_related("incident__severity", "incident__team", "owner")
        .annotate(
            items_total=Count("incident__action_items", distinct=True),
            items_open=Count("incident__action_items", filter=Q(incident__action_items__status__in=ACTIVE_STATUSES),
                             distinct=True),
        )
    )


def in_list_order(postmortems: QuerySet[Postmortem]) -> QuerySet[Postmortem]:
    """Not yet published first, soonest due first (undated last), then the newest."""
    published = Case(When(status=PostmortemStatus.PUBLISHED, then=1), default=0, output_field=IntegerField())
    return postmortems.order_by(published, F("due_at").asc(nulls_last=True), "-created_at", "-id")


def postmortems_in_full(user) -> QuerySet[Postmortem]:
    """``postmortems_for`` with everything one postmortem's page or API answer shows."""
    return postmortems_for(user).select_related("created_by", "updated_by").prefetch_related(
        Prefetch("factors", queryset=ContributingFactor.objects.select_related("tag")),
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
        Prefetch("events", queryset=PostmortemEvent.objects.select_related("added_by")),
    )


def action_items_for(user) -> QuerySet[ActionItem]:
    """Action items the user may see, with their incident, its postmortem and owner: constant queries."""
    return (ActionItem.objects.visible_to(user)
            .select_related("incident__team", "incident__severity", "incident__postmortem", "owner", "created_by"))


def sort_action_items(items: QuerySet[ActionItem]) -> QuerySet[ActionItem]:
    """Active first, then by priority and due date (undated last)."""
    active = Q(status__in=ACTIVE_STATUSES)
    return items.annotate(is_active=ExpressionWrapper(active, output_field=BooleanField())).order_by(
        "-is_active", "priority", F("due_at").asc(nulls_last=True), "id")


def assignable_people(incident: Incident, user=None) -> QuerySet[User]:
    """Who may own a postmortem or an action item of ``incident``, or review it: active members of its team
    and its responders; for staff, anyone active."""
    people = User.objects.filter(is_active=True)
    if user is not None and user.is_staff:
        return people.order_by("full_name", "username")
    return people.filter(Q(memberships__team=incident.team_id) | Q(responding__incident=incident)).distinct().order_by(
        "full_name", "username")


def factor_tags_for(team: Team | None) -> QuerySet[FactorTag]:
    """The tags offered to ``team``'s postmortems: everyone's and its own, active ones."""
    tags = FactorTag.objects.filter(active=True)
    return tags.filter(Q(team__isnull=True) | Q(team=team)) if team is not None else tags.filter(team__isnull=True)


# --- The closing guard (registered with incidents.guards) ---------------------------

def unpublished_postmortem(incident: Incident) -> str | None:
    """Why ``incident`` may not close yet: its required postmortem is not published (or not started)."""
    postmortem = Postmortem.objects.filter(incident=incident).only("id", "status", "required").first()
    if postmortem is not None:
        if not postmortem.required or postmortem.status == PostmortemStatus.PUBLISHED:
            return None
        state = postmortem.get_status_display().lower()
        return (f"{incident.number} cannot be closed until its postmortem is published (it is {state}): "
                "finish the review and publish it first.")
    if policy_for(incident.severity).required:
        return (f"{incident.number} cannot be closed until its postmortem is published: a {incident.severity.name} "
                "needs one. Start it from the incident page, then have it reviewed and published.")
    return None


# --- The timeline source (registered with incidents.queries) ------------------------

_POSTMORTEM_EVENTS = {
    "created": "Postmortem started", "submitted": "Postmortem submitted for review", "approved": "Postmortem approved",
    "published": "Postmortem published", "reopened": "Postmortem reopened",
}
_ITEM_STATUS_WORDS = {"open": "reopened", "in_progress": "started", "done": "done", "wont_do": "won't do"}


def _postmortem_events(incident: Incident) -> list[TimelineEvent]:
    events = []
    records = (Postmortem.history.filter(incident_id=incident.pk).select_related("history_user")
               .order_by("history_date", "history_id"))
    for record in records:
        verb, _, note = (record.history_change_reason or "").partition(": ")
        if verb not in _POSTMORTEM_EVENTS:
            continue
        summary = _POSTMORTEM_EVENTS[verb]
        if note:
            summary += f": {note}"
        events.append(TimelineEvent(record.history_date, "postmortem", record.history_user, summary,
                                    {"postmortem": record.id, "event": verb, "status": record.status,
                                     "due_at": _iso(record.due_at), "note": note}))
    previous: dict[int, str] = {}
    items = (ActionItem.history.filter(incident_id=incident.pk).select_related("history_user")
             .order_by("history_date", "history_id"))
    for record in items:
        before = previous.get(record.id)
        previous[record.id] = record.status
        if record.history_type == "+":
            summary = f"Action item: {record.title} ({record.priority})"
        elif before is not None and before != record.status:
            summary = f"Action item {_ITEM_STATUS_WORDS.get(record.status, record.status)}: {record.title}"
            if record.status == ActionItemStatus.WONT_DO and record.wont_do_reason:
                summary += f" — {record.wont_do_reason}"
            elif record.history_user_id is None and record.tracker_id is not None:
                # An issue tracker's webhook changed it: its reason names the issue ("closed in GitHub #12").
                summary += f" — {(record.history_change_reason or '').partition(': ')[2]}"
        elif (record.history_change_reason or "").startswith("sent to "):
            summary = f"Action item {record.history_change_reason}: {record.title}"
        else:
            continue
        events.append(TimelineEvent(record.history_date, "action_item", record.history_user, summary,
                                    {"action_item": record.id, "status": record.status, "priority": record.priority}))
    return events


register_timeline_source(_postmortem_events)

_MEETING_EVENTS = {"scheduled": "Postmortem review meeting scheduled", "moved": "Postmortem review meeting moved",
                   "changed": "Postmortem review meeting changed", "cancelled": "Postmortem review meeting cancelled"}


def _meeting_events(incident: Incident) -> list[TimelineEvent]:
    """The review meeting's history (``services.meeting``): scheduled, moved, changed, cancelled."""
    events = []
    records = (ReviewMeeting.history.filter(postmortem__incident_id=incident.pk).select_related("history_user")
               .order_by("history_date", "history_id"))
    for record in records:
        verb, _, note = (record.history_change_reason or "").partition(": ")
        if verb not in _MEETING_EVENTS:
            continue
        events.append(TimelineEvent(record.history_date, "postmortem", record.history_user,
                                    f"{_MEETING_EVENTS[verb]}: {note}" if note else _MEETING_EVENTS[verb],
                                    {"postmortem": record.postmortem_id, "event": f"meeting_{verb}",
                                     "meeting": str(record.uid), "starts_at": _iso(record.starts_at),
                                     "duration_minutes": record.duration_minutes, "sequence": record.sequence}))
    return events


register_timeline_source(_meeting_events)


def meeting_of(postmortem: Postmortem) -> ReviewMeeting | None:
    """The postmortem's review meeting (scheduled or cancelled) with its organizer and attendees, or None:
    two queries."""
    return (ReviewMeeting.objects.filter(postmortem=postmortem).select_related("organizer")
            .prefetch_related("attendees").first())


# --- Summaries for pages -------------------------------------------------------------

def is_overdue(postmortem: Postmortem, now: datetime) -> bool:
    return (postmortem.status != PostmortemStatus.PUBLISHED and postmortem.due_at is not None
            and postmortem.due_at < now)


def commander(incident: Incident):
    """The incident commander (one query; none when nobody holds the role)."""
    return commander_of(Incident.objects.prefetch_related(
        Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("user"))).get(pk=incident.pk))


def postmortem_of(incident: Incident) -> Postmortem | None:
    """The incident's postmortem, or None (no query when ``select_related`` fetched it)."""
    try:
        return incident.postmortem
    except Postmortem.DoesNotExist:
        return None
