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

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q
from django.utils import timezone

from incidents.models import Incident, MaintenanceWindow, Service, StatusUpdate
from incidents.models.incident import OPEN_STATUSES
from oncall.models import Membership, Team
from oncall.permissions import MANAGING_ROLES

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

    @property
    def label(self) -> str:
        """"Partial outage": the words of ``comms/_status_label.html``, without an include per day (20
        components make 1,800 of them, most of a page's render time)."""
        return ComponentStatus(self.status).label


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


@dataclass(frozen=True)
class _Span:
    """The days (indexes into the 90) a public incident touched, and the status it gives them."""

    first: int
    last: int
    rank: int


def _spans(incidents: list, now: datetime) -> list[tuple[set, _Span]]:
    """Each public incident's services and span of days: once per page, not once per component and day."""
    first_day = now.astimezone(UTC).date() - timedelta(days=UPTIME_DAYS - 1)
    out = []
    for i in incidents:
        # A day is touched when the public period [since, until] meets it: from since's UTC date to until's.
        first = (i.public_since.astimezone(UTC).date() - first_day).days
        last = ((i.public_until or now).astimezone(UTC).date() - first_day).days
        first, last = max(first, 0), min(last, UPTIME_DAYS - 1)
        if first <= last:
            out.append((i.service_ids, _Span(first, last, SEVERITY_ORDER[i.component_status])))
    return out


def _uptime(service_ids: set, spans: list, now: datetime) -> list[UptimeDay]:
    """90 UTC days, oldest first, each the worst status of the public incidents touching ``service_ids``
    during that day. An incident's public period runs from its first public update to its resolution
    (or now, if still open). Maintenance does not colour the history."""
    today = now.astimezone(UTC).date()
    ranks = [SEVERITY_ORDER[ComponentStatus.OPERATIONAL]] * UPTIME_DAYS
    for ids, span in spans:
        if ids & service_ids:
            for day in range(span.first, span.last + 1):
                ranks[day] = max(ranks[day], span.rank)
    statuses = ComponentStatus.values
    return [UptimeDay(day=today - timedelta(days=UPTIME_DAYS - 1 - n), status=statuses[rank])
            for n, rank in enumerate(ranks)]


def derived_status(service_ids: set, open_public: list, in_maintenance: set) -> str:
    """A component's status without its override: the worst open public incident on its services; else
    under maintenance if one of them is; else operational."""
    status = worst(i.component_status for i in open_public if i.service_ids & service_ids)
    if status == ComponentStatus.OPERATIONAL and service_ids & in_maintenance:
        status = ComponentStatus.UNDER_MAINTENANCE
    return status


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
    spans = _spans(public, now)
    views = []
    for component in components:
        ids = {s.pk for s in component.services.all()}
        status = component.status_override or derived_status(ids, open_public, in_maintenance)
        views.append(ComponentView(component=component, status=status, service_ids=ids,
                                   uptime=_uptime(ids, spans, now)))
    by_service = {}
    for view in views:
        for sid in view.service_ids:
            by_service.setdefault(sid, []).append(view.component)
    for window in windows:
        window.public_components = by_service.get(window.service_id, [])
    return StatusPage(team=team, now=now, components=views, incidents=open_public, maintenances=windows)


def components_of(public_incident: PublicIncident, page: StatusPage) -> list[Component]:
    return [v.component for v in page.components if v.service_ids & public_incident.service_ids]


@dataclass(frozen=True)
class Version:
    """What the status page's ETag and Last-Modified are made of."""

    changed: datetime  # the newest time anything on the page may have changed: its Last-Modified
    components: int  # deleting a component moves no time


def version(*, team=None, now: datetime | None = None) -> Version:
    """The version of ``team``'s status page (or the organisation's): three aggregate queries.

    ``changed`` includes the start of the current UTC day (the uptime row moves), and the moments
    maintenance windows came within the page's 7 days, began and ended (the list and statuses change
    by the clock)."""
    now = now or timezone.now()
    components = Component.objects.all() if team is None else Component.objects.filter(team=team)
    updates = StatusUpdate.objects.filter(public=True)
    windows = MaintenanceWindow.objects.all()
    if team is not None:
        updates = updates.filter(Q(incident__team=team) | Q(incident__services__components__team=team))
        windows = windows.filter(service__components__team=team)
    stamps = components.aggregate(at=Max("updated_at"), count=Count("id"))
    count = stamps.pop("count")
    found = list(stamps.values())
    found += list(updates.aggregate(update=Max("created_at"), incident=Max("incident__updated_at")).values())
    stamps = windows.aggregate(
        created=Max("created_at"), started=Max("starts_at", filter=Q(starts_at__lte=now)),
        ended=Max("ends_at", filter=Q(ends_at__lte=now)),
        listed=Max("starts_at", filter=Q(starts_at__lte=now + MAINTENANCE_AHEAD)),
    )
    if stamps["listed"] is not None:  # on the page from MAINTENANCE_AHEAD before it starts (or its creation)
        stamps["listed"] -= MAINTENANCE_AHEAD
    found += list(stamps.values())
    today = _day_start(now.astimezone(UTC).date())
    return Version(changed=max([at for at in found if at is not None] + [today]), components=count)


def feed_updates(limit: int = 50):
    """The newest public updates of public incidents, for the Atom feed: one query."""
    return list(StatusUpdate.objects.filter(public=True).select_related("incident")
                .order_by("-created_at", "-id")[:limit])


# --- The components editor (/comms/components/) ---------------------------------------------------------

@dataclass
class ComponentRow:
    component: Component
    services: list  # the component's services, by name
    derived: str  # what incidents and maintenance make of it, whatever its override

    @property
    def status(self) -> str:
        """What the public page shows."""
        return self.component.status_override or self.derived


@dataclass
class TeamComponents:
    team: Team
    rows: list  # ComponentRows, in the public page's order
    can_manage: bool


def components_by_team(user, *, now: datetime | None = None) -> list[TeamComponents]:
    """Every team ``user`` may see, by name, each with its components, their derived statuses, and whether
    ``user`` may change them (``oncall.permissions.can_manage_team``, for all teams at once): 7 queries at
    most, whatever the number of teams, components, services and incidents."""
    now = now or timezone.now()
    teams = list(Team.objects.visible_to(user).distinct().order_by("name", "id"))  # 1 query
    if user.is_staff:
        managed = {t.pk for t in teams}
    else:
        managed = set(Membership.objects.filter(user=user, role__in=MANAGING_ROLES)
                      .values_list("team_id", flat=True))  # 1 query
    components = list(Component.objects.filter(team__in=teams).prefetch_related(
        Prefetch("services", queryset=Service.objects.order_by("name", "id")),
    ).order_by("position", "name", "id"))  # 2 queries
    service_ids = {s.pk for c in components for s in c.services.all()}
    incidents = public_incidents().filter(status__in=OPEN_STATUSES, services__in=service_ids).distinct()
    open_public = [
        PublicIncident(incident=i, updates=[], service_ids={s.pk for s in i.affected},
                       impact=impact_for_severity_rank(i.severity.rank),
                       component_status=status_for_severity_rank(i.severity.rank))
        for i in incidents.select_related("severity").prefetch_related(Prefetch("services", to_attr="affected"))
    ]  # 2 queries
    in_maintenance = set(MaintenanceWindow.objects.filter(
        service_id__in=service_ids, starts_at__lte=now, ends_at__gt=now).values_list("service_id", flat=True))  # 1
    by_team = {t.pk: TeamComponents(team=t, rows=[], can_manage=t.pk in managed) for t in teams}
    for component in components:
        services = list(component.services.all())
        derived = derived_status({s.pk for s in services}, open_public, in_maintenance)
        by_team[component.team_id].rows.append(ComponentRow(component=component, services=services, derived=derived))
    return list(by_team.values())
