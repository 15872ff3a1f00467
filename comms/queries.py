"""The public status page's read side: one computation for the HTML page, the JSON and the feed.

What is public (and nothing else): components; incidents with at least one public
status update, their title, severity-derived impact and their public updates only;
the times of maintenance windows of the components' services. Never notes, people,
alerts, internal updates, descriptions, maintenance reasons, or incidents without a
public update (a security incident stays off the page until someone posts publicly).

Every function runs a fixed number of queries, whatever the number of components,
incidents or updates.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Exists, Max, OuterRef, Prefetch, Q
from django.utils import timezone

from incidents.models import Incident, MaintenanceWindow, StatusUpdate
from incidents.models.incident import OPEN_STATUSES

from .models import SEVERITY_ORDER, Component, ComponentStatus

UPTIME_DAYS = 90
MAINTENANCE_AHEAD = timedelta(days=7)

# Severity rank (1 = SEV1) → what a public incident does to its components, and its Statuspage impact.
_STATUS_FOR_RANK = {1: ComponentStatus.MAJOR_OUTAGE, 2: ComponentStatus.PARTIAL_OUTAGE}
_IMPACT_FOR_RANK = {1: "critical", 2: "major"}
# The page's indicator and description from its worst component (Statuspage's wording).
INDICATORS = {
    ComponentStatus.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentStatus.UNDER_MAINTENANCE: ("none", "Service Under Maintenance"),
    ComponentStatus.DEGRADED_PERFORMANCE: ("minor", "Minor Service Outage"),
    ComponentStatus.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    ComponentStatus.MAJOR_OUTAGE: ("critical", "Major System Outage"),
}
_INDICATOR_ORDER = ["none", "minor", "major", "critical"]
_INDICATOR_DESCRIPTION = {"none": "All Systems Operational", "minor": "Minor Service Outage",
                          "major": "Partial System Outage", "critical": "Major System Outage"}


def status_for_severity_rank(rank: int) -> str:
    """SEV1 → major_outage, SEV2 → partial_outage, SEV3 and below → degraded_performance."""
    return _STATUS_FOR_RANK.get(rank, ComponentStatus.DEGRADED_PERFORMANCE)


def impact_for_severity_rank(rank: int) -> str:
    return _IMPACT_FOR_RANK.get(rank, "minor")


def worst(statuses) -> str:
    return max(statuses, key=SEVERITY_ORDER.__getitem__, default=ComponentStatus.OPERATIONAL)


def public_incidents():
    """Incidents with at least one public status update: the only ones the public ever sees."""
    return Incident.objects.filter(Exists(StatusUpdate.objects.filter(incident=OuterRef("pk"), public=True)))


@dataclass
class PublicIncident:
    incident: Incident
    updates: list  # public StatusUpdates, newest first
    service_ids: set
    impact: str
    component_status: str

    @property
    def state(self) -> str:
        return self.updates[0].state

    @property
    def is_open(self) -> bool:
        return self.incident.status in OPEN_STATUSES

    @property
    def public_since(self) -> datetime:
        return self.updates[-1].created_at

    @property
    def public_until(self) -> datetime | None:
        return self.incident.resolved_at if not self.is_open else None

    @property
    def updated_at(self) -> datetime:
        return self.updates[0].created_at


@dataclass
class UptimeDay:
    day: date
    status: str


@dataclass
class ComponentView:
    component: Component
    status: str
    service_ids: set
    uptime: list = field(default_factory=list)

    @property
    def uptime_percent(self) -> float:
        """Share of the 90 days without a public outage (maintenance and degraded days count as up)."""
        down = sum(1 for d in self.uptime if d.status in (ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.MAJOR_OUTAGE))
        return round(100 * (len(self.uptime) - down) / len(self.uptime), 2) if self.uptime else 100.0


@dataclass
class StatusPage:
    team: object  # a Team, or None for the whole organisation
    now: datetime
    components: list
    incidents: list  # open public incidents, newest first
    maintenances: list  # MaintenanceWindows active or starting within 7 days

    @property
    def status(self) -> str:
        return worst(c.status for c in self.components)

    @property
    def indicator(self) -> str:
        # The worst of the components and of the open incidents' impacts (an incident may name no component).
        found = [INDICATORS[self.status][0]] + [i.impact for i in self.incidents]
        return max(found, key=_INDICATOR_ORDER.index)

    @property
    def description(self) -> str:
        indicator = self.indicator
        if indicator == INDICATORS[self.status][0]:
            return INDICATORS[self.status][1]
        return _INDICATOR_DESCRIPTION[indicator]

    @property
    def updated_at(self) -> datetime:
        stamps = [c.component.updated_at for c in self.components] + [i.updated_at for i in self.incidents]
        return max(stamps, default=self.now)


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _uptime(service_ids: set, incidents: list, now: datetime) -> list[UptimeDay]:
    """90 UTC days, oldest first, each the worst status of the public incidents touching ``service_ids``
    during that day. An incident's public period runs from its first public update to its resolution
    (or now, if still open). Maintenance does not colour the history."""
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=n) for n in range(UPTIME_DAYS - 1, -1, -1)]
    touching = [i for i in incidents if i.service_ids & service_ids]
    out = []
    for day in days:
        start, end = _day_start(day), _day_start(day) + timedelta(days=1)
        status = worst(i.component_status for i in touching
                       if i.public_since < end and (i.public_until or now) >= start)
        out.append(UptimeDay(day=day, status=status))
    return out


def status_page(*, team=None, now: datetime | None = None) -> StatusPage:
    """The status page of ``team`` (or of every team): 5 queries, whatever its size."""
    now = now or timezone.now()
    components = Component.objects.select_related("team").prefetch_related("services")
    if team is not None:
        components = components.filter(team=team)
    components = list(components.order_by("team__name", "position", "name", "id"))  # 2 queries
    service_ids = {s.pk for c in components for s in c.services.all()}

    since = now - timedelta(days=UPTIME_DAYS + 1)
    incidents = public_incidents().filter(Q(status__in=OPEN_STATUSES) | Q(resolved_at__gte=since))
    if team is not None:
        incidents = incidents.filter(Q(team=team) | Q(services__in=service_ids)).distinct()
    incidents = incidents.select_related("severity").prefetch_related(
        Prefetch("services", to_attr="affected"),
        Prefetch("status_updates", queryset=StatusUpdate.objects.filter(public=True).order_by("-created_at", "-id"),
                 to_attr="public_updates"),
    ).order_by("-created_at", "-id")  # 3 queries
    public = [
        PublicIncident(incident=i, updates=i.public_updates, service_ids={s.pk for s in i.affected},
                       impact=impact_for_severity_rank(i.severity.rank),
                       component_status=status_for_severity_rank(i.severity.rank))
        for i in incidents
    ]
    windows = list(MaintenanceWindow.objects.filter(
        service_id__in=service_ids, ends_at__gt=now, starts_at__lt=now + MAINTENANCE_AHEAD,
    ).order_by("starts_at", "id"))  # 1 query
    in_maintenance = {w.service_id for w in windows if w.starts_at <= now}

    open_public = [i for i in public if i.is_open]
    views = []
    for component in components:
        ids = {s.pk for s in component.services.all()}
        if component.status_override:
            status = component.status_override
        else:
            status = worst(i.component_status for i in open_public if i.service_ids & ids)
            if status == ComponentStatus.OPERATIONAL and ids & in_maintenance:
                status = ComponentStatus.UNDER_MAINTENANCE
        views.append(ComponentView(component=component, status=status, service_ids=ids,
                                   uptime=_uptime(ids, public, now)))
    by_service = {}
    for view in views:
        for sid in view.service_ids:
            by_service.setdefault(sid, []).append(view.component)
    for window in windows:
        window.public_components = by_service.get(window.service_id, [])
    return StatusPage(team=team, now=now, components=views, incidents=open_public, maintenances=windows)


def components_of(public_incident: PublicIncident, page: StatusPage) -> list[Component]:
    return [v.component for v in page.components if v.service_ids & public_incident.service_ids]


def last_change(*, team=None, now: datetime | None = None) -> datetime:
    """The newest time anything on the status page may have changed: the page's Last-Modified, and (with
    counts) its ETag. Two aggregate queries. It includes the start of the current UTC day (the uptime
    row moves) and of maintenance windows that began or ended by now (statuses change by the clock)."""
    now = now or timezone.now()
    components = Component.objects.all() if team is None else Component.objects.filter(team=team)
    updates = StatusUpdate.objects.filter(public=True)
    windows = MaintenanceWindow.objects.all()
    if team is not None:
        updates = updates.filter(Q(incident__team=team) | Q(incident__services__components__team=team))
        windows = windows.filter(service__components__team=team)
    stamps = components.aggregate(at=Max("updated_at"))
    found = [stamps["at"]]
    found += list(updates.aggregate(update=Max("created_at"), incident=Max("incident__updated_at")).values())
    found += list(windows.aggregate(
        created=Max("created_at"), started=Max("starts_at", filter=Q(starts_at__lte=now)),
        ended=Max("ends_at", filter=Q(ends_at__lte=now)),
    ).values())
    today = _day_start(now.astimezone(UTC).date())
    return max([at for at in found if at is not None] + [today])


def component_count(*, team=None) -> int:
    """Part of the ETag: deleting a component moves no time."""
    return (Component.objects.all() if team is None else Component.objects.filter(team=team)).count()


def feed_updates(limit: int = 50):
    """The newest public updates of public incidents, for the Atom feed: one query."""
    return list(StatusUpdate.objects.filter(public=True).select_related("incident")
                .order_by("-created_at", "-id")[:limit])
