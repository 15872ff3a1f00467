"""Read side of paging: the incident's on-call panel, pages sent, "my pages", the timeline source."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from incidents.models import Incident, Responder, Service
from incidents.queries import TimelineEvent, register_timeline_source
from oncall.models import EscalationPolicy, Rotation, Team, User
from oncall.schedule import OnCall, who_is_on_call

from .models import EscalationRun, Notification, PagingEvent


def _paging_events(incident) -> list[TimelineEvent]:
    events = [
        TimelineEvent(at=e.at, kind="escalated" if e.kind != PagingEvent.Kind.DELIVERY_FAILED else "notification",
                      actor=e.actor, summary=e.summary, data={"event": e.kind, **e.data})
        for e in PagingEvent.objects.filter(incident=incident).select_related("actor")
    ]
    for n in Notification.objects.filter(incident=incident, status=Notification.Status.SENT).select_related("user"):
        events.append(TimelineEvent(
            at=n.sent_at, kind="notification", actor=None,
            summary=f"{n.get_kind_display()} sent to {n.recipient} by {n.get_channel_display()}",
            data={"user": n.user.username if n.user_id else None, "channel": n.channel, "step": n.step, "loop": n.loop, "status": n.status},
        ))
    return events


register_timeline_source(_paging_events)


# --- The incident's on-call panel, its paging API, "my pages" ------------------------

# What "pages sent" lists: pages (escalation or by hand) and resolve-target notices to the leads.
# Stakeholder notices inform, they do not page; the API's ?kind= asks for them.
PAGE_KINDS = (Notification.Kind.PAGE, Notification.Kind.OVERDUE)
_LAYER_ORDER = {"primary": 0, "secondary": 1}


def on_call_for_incident(incident: Incident, *, at: datetime) -> list[OnCall]:
    """Who is on call at ``at`` for the incident: its team's rotations and its services' teams'.

    The incident's own team first, then by team name, layer (primary, secondary, the rest) and
    rotation; a rotation with nobody on call is listed with ``user=None``. Constant queries
    (``who_is_on_call``'s, plus the services' teams).
    """
    team_ids = {incident.team_id, *Service.objects.filter(incidents=incident).values_list("team_id", flat=True)}
    entries = who_is_on_call(at, teams=Team.objects.filter(pk__in=team_ids), include_gaps=True)
    return sorted(entries, key=lambda e: (e.team.pk != incident.team_id, e.team.name,
                                          _LAYER_ORDER.get(e.layer, 2), e.layer, e.rotation.name))


@dataclass
class EscalationState:
    """An escalation run as a responder reads it: "Step 2 of 4, repeat 0 of 1", and what comes next."""

    run: EscalationRun
    current: str
    next_step: str  # empty when nothing comes next
    next_at: datetime | None

    @property
    def active(self) -> bool:
        return self.run.state == EscalationRun.State.ACTIVE


def escalation_state(run: EscalationRun) -> EscalationState:
    """Words for the run's position. ``run.step`` is the index of the next step to enter, so the
    step last entered is ``run.step`` counted from 1 (0: none entered yet)."""
    total, repeat, loop = len(run.steps), run.snapshot.get("repeat", 0), run.loop
    if run.step == 0 and loop == 0:
        current = f"Not started yet ({total} step{'s' if total != 1 else ''}, repeat {repeat})"
    else:
        current = f"Step {run.step} of {total}, repeat {loop} of {repeat}"
    next_step, next_at = "", None
    if run.state == EscalationRun.State.ACTIVE and run.next_step_at is not None:
        next_at = run.next_step_at
        if run.step < total:
            next_step = f"Step {run.step + 1} of {total}" + (f", repeat {loop} of {repeat}" if loop else "")
        elif loop < repeat:
            next_step = f"Step 1 of {total} again, repeat {loop + 1} of {repeat}"
        else:
            next_step = "Every step has paged: the escalation ends"
    return EscalationState(run=run, current=current, next_step=next_step, next_at=next_at)


def escalation_of(incident: Incident) -> EscalationRun | None:
    """The incident's current escalation: its active run, else the latest one (a reopen starts a new one)."""
    return (EscalationRun.objects.filter(incident=incident).select_related("stopped_by")
            .order_by("-started_at", "-id").first())


def notifications_of(incident: Incident, kinds=PAGE_KINDS) -> QuerySet[Notification]:
    """Messages about the incident, oldest first, with their person (one query however many)."""
    return (Notification.objects.filter(incident=incident, kind__in=kinds)
            .select_related("user", "sent_by").order_by("created_at", "id"))


def responders_of(incident: Incident) -> QuerySet[Responder]:
    """The incident's responders in the order they joined, with who added them."""
    return Responder.objects.filter(incident=incident).select_related("user", "added_by").order_by("added_at", "id")


def paged_responders(incident: Incident, *, by, at: datetime) -> list[Responder]:
    """The responders one page (by ``by`` at ``at``) reached: the people its timeline event names.

    Someone already responding keeps their first entry (its ``via`` may be ``role``), and is listed too.
    """
    event = (PagingEvent.objects.filter(incident=incident, kind=PagingEvent.Kind.PAGED, actor=by, at=at)
             .order_by("-id").first())
    usernames = event.data.get("users", []) if event is not None else []
    return list(responders_of(incident).filter(user__username__in=usernames))


def pages_for_user(user) -> QuerySet[Notification]:
    """What paged ``user`` ("my pages"), newest first, with its incident (on ``notification_user_created``)."""
    return (Notification.objects.filter(user=user, kind__in=PAGE_KINDS, incident__isnull=False)
            .select_related("incident__severity", "incident__team").order_by("-created_at", "-id"))


@dataclass
class PageTargets:
    """What the incident page's "Page" form offers: four queries, however many of each."""

    people: list[User]
    teams: list[Team]
    rotations: list[Rotation]
    policies: list[EscalationPolicy]


def page_targets(*, at: datetime) -> PageTargets:
    """Every active person, team, current rotation and escalation policy: paging another team's
    expert into an incident is the point, so none is limited to the reader's teams."""
    return PageTargets(
        people=list(User.objects.filter(is_active=True).only("username", "full_name", "first_name", "last_name")
                    .order_by("full_name", "username")),
        teams=list(Team.objects.only("slug", "name").order_by("name")),
        rotations=list(Rotation.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
                       .select_related("team").order_by("team__name", "layer", "name")),
        policies=list(EscalationPolicy.objects.select_related("team").order_by("team__name", "name")),
    )
