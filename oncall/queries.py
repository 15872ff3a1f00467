"""Read side of on-call: selectors shared by the API, pages, calendar feeds, reports and metrics.

All shift arithmetic is delegated to ``oncall.schedule``; this module only
chooses which rotations to load (with their prefetches) and shapes results.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone as djtz

from core.instants import MAX_COVER

from .models import (
    HandoffNote,
    Membership,
    Override,
    Rotation,
    RotationParticipant,
    SwapRequest,
    Team,
    User,
)
from .schedule import (
    OnCall,
    Shift,
    final_shifts,
    layer_gaps,
    load_rotations,
    moved,
    rotation_queryset,
    shift_at,
    who_is_on_call,
)

COVERAGE_HORIZON = timedelta(days=28)


def participants_at(rotation: Rotation, at: datetime) -> list[User]:
    """The participant order in force at ``at`` (uses prefetched rows)."""
    rows = sorted(rotation.participants.all(), key=lambda p: (p.effective_from, p.position))
    moments = sorted({r.effective_from for r in rows})
    if not moments:
        return []
    version = moments[max(bisect_right(moments, at) - 1, 0)]
    return [r.user for r in rows if r.effective_from == version]


def visible_rotations(user):
    """Rotations of the teams ``user`` may see, participants prefetched (three queries with a count)."""
    return rotation_queryset(Team.objects.visible_to(user))


def visible_overrides(user):
    return Override.objects.filter(rotation__team__in=Team.objects.visible_to(user)).select_related(
        "rotation__team", "user"
    )


def shifts_of_rotations(rotations, start: datetime, end: datetime) -> list[Shift]:
    """Final shifts of several rotations, loaded with ``load_rotations(overrides_between=...)``."""
    out = []
    for rotation in rotations:
        out.extend(final_shifts(rotation, start, end))
    return sorted(out, key=lambda s: (s.start, s.rotation.layer, s.rotation.name))


def team_shifts(team: Team, start: datetime, end: datetime) -> list[Shift]:
    return shifts_of_rotations(load_rotations([team], overrides_between=(start, end)), start, end)


def user_shifts(user: User, start: datetime, end: datetime, *, whole: bool = False) -> list[Shift]:
    """A person's final shifts in every rotation of their teams (overrides included).

    Shifts are clipped to [start, end), unless ``whole``: then a shift the
    window cuts keeps its real start and end ("until Monday 09:00", not the
    window's edge). Overrides are then loaded for ``MAX_COVER`` either side,
    the longest an override runs, so one that ends the shift out there counts.
    """
    pad = MAX_COVER + timedelta(days=1) if whole else timedelta(0)
    rotations = load_rotations(Team.objects.filter(memberships__user=user),
                               overrides_between=(moved(start, -pad), moved(end, pad)))
    shifts = [s for s in shifts_of_rotations(rotations, start, end) if s.user.pk == user.pk]
    if whole:
        # shift_at widens its own window until the shift fits in it; it reads the overrides loaded above.
        shifts = [s if start < s.start and s.end < end else (shift_at(s.rotation, s.start) or s) for s in shifts]
    return shifts


# --- Team page -----------------------------------------------------------------------

@dataclass
class LayerNow:
    layer: str
    now: list[OnCall] = field(default_factory=list)
    next: list[tuple[Rotation, Shift]] = field(default_factory=list)
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)
    days: list[dict] = field(default_factory=list)


def team_overview(team: Team, now: datetime | None = None, days: int = 28) -> list[LayerNow]:
    """Per layer: who is on call now, who is next, coverage gaps and a day-by-day calendar."""
    now = now or djtz.now()
    zone = ZoneInfo(team.timezone)
    first_day = now.astimezone(zone).date()
    start = datetime.combine(first_day, time()).replace(tzinfo=zone).astimezone(UTC)
    end = datetime.combine(first_day + timedelta(days=days), time()).replace(tzinfo=zone).astimezone(UTC)
    rotations = load_rotations([team], overrides_between=(start - timedelta(days=120), end + timedelta(days=120)))
    layers: dict[str, LayerNow] = {}
    by_layer: dict[str, list[Rotation]] = defaultdict(list)
    for rotation in sorted(rotations, key=lambda r: (r.layer != Rotation.PRIMARY, r.layer != Rotation.SECONDARY, r.layer)):
        by_layer[rotation.layer].append(rotation)
    for layer, members in by_layer.items():
        info = layers.setdefault(layer, LayerNow(layer))
        shifts = []
        for rotation in members:
            current = shift_at(rotation, now)
            if current:
                info.now.append(OnCall(team, rotation, layer, current.user, current.start, current.end, current.override))
            after = current.end if current else now
            upcoming = next((s for s in final_shifts(rotation, after, moved(after, timedelta(days=60)))
                             if s.start >= after), None)
            if upcoming:
                info.next.append((rotation, upcoming))
            shifts.extend(final_shifts(rotation, start, end))
        info.gaps = layer_gaps(members, max(now, start), end)
        for n in range(days):
            day = first_day + timedelta(days=n)
            d0 = datetime.combine(day, time()).replace(tzinfo=zone).astimezone(UTC)
            d1 = datetime.combine(day + timedelta(days=1), time()).replace(tzinfo=zone).astimezone(UTC)
            people = []
            for s in shifts:
                if s.start < d1 and s.end > d0 and s.user.display_name not in people:
                    people.append(s.user.display_name)
            covered = sum(((min(s.end, d1) - max(s.start, d0)) for s in shifts if s.start < d1 and s.end > d0), timedelta())
            info.days.append({"date": day, "people": people, "gap": covered < (d1 - d0)})
    return list(layers.values())


def team_handoff_notes(team: Team, since: datetime):
    return HandoffNote.objects.filter(rotation__team=team, handoff_at__gte=since).select_related("author", "rotation")


def team_open_swaps(team: Team):
    return SwapRequest.objects.filter(rotation__team=team, status=SwapRequest.Status.REQUESTED).select_related(
        "rotation", "requester", "recipient"
    )


def open_swaps_for(user: User):
    return SwapRequest.objects.filter(status=SwapRequest.Status.REQUESTED).filter(
        rotation__team__memberships__user=user
    ).select_related("rotation__team", "requester", "recipient").distinct()


# --- Coverage gaps (Prometheus) -----------------------------------------------------------

def coverage_gaps(now: datetime | None = None, teams=None, horizon: timedelta = COVERAGE_HORIZON):
    """Gaps per (team slug, layer) in [now, now + horizon): ``{(slug, layer): [(start, end), ...]}``.

    Constant number of queries (rotations, participants, overrides). Layers
    with full coverage map to an empty list, so a gauge can report 0 for them.
    """
    now = now or djtz.now()
    end = now + horizon
    groups: dict[tuple[str, str], list[Rotation]] = defaultdict(list)
    for rotation in load_rotations(teams, overrides_between=(now, end)):
        groups[(rotation.team.slug, rotation.layer)].append(rotation)
    return {key: layer_gaps(rotations, now, end) for key, rotations in groups.items()}


def coverage_gap_seconds(now: datetime | None = None, teams=None) -> dict[tuple[str, str], float]:
    """For the ``vigil_oncall_coverage_gap_seconds{team, layer}`` gauge: seconds uncovered in the next 4 weeks."""
    return {key: sum((e - s).total_seconds() for s, e in gaps) for key, gaps in coverage_gaps(now, teams).items()}


# --- Load and fairness ---------------------------------------------------------------

BUSINESS_START, BUSINESS_END = time(9), time(18)


def load_limit_hours() -> float:
    """Hours per month above which a person's load is flagged (``ONCALL_MONTHLY_LOAD_LIMIT_HOURS``, default a week)."""
    return settings.ONCALL_MONTHLY_LOAD_LIMIT_HOURS


@dataclass
class LoadRow:
    """One person's hours in one layer in one month: worked (before now) and scheduled (from now)."""

    user: User
    month: date
    layer: str = Rotation.PRIMARY
    business: float = 0.0
    nights: float = 0.0
    weekends: float = 0.0
    worked: float = 0.0
    scheduled: float = 0.0

    @property
    def total(self) -> float:
        return self.business + self.nights + self.weekends

    @property
    def over_limit(self) -> bool:
        """More hours in this one layer this month than the limit: worth a lead's look.

        Layers are never added up: being primary one week and secondary the
        next is one person's normal month, not twice the load.
        """
        return self.total > load_limit_hours()

    @property
    def worked_over_limit(self) -> bool:
        """Already over the limit (to make up for); else, if ``over_limit``, only by what is still scheduled."""
        return self.worked > load_limit_hours()


def _split_hours(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[float, float, float]:
    """Hours of [start, end) in business hours (Mon–Fri 09–18), nights (weekday rest) and weekends, local."""
    business = nights = weekends = 0.0
    day = start.astimezone(zone).date()
    while True:
        d0 = datetime.combine(day, time()).replace(tzinfo=zone).astimezone(UTC)
        if d0 >= end:
            break
        d1 = datetime.combine(day + timedelta(days=1), time()).replace(tzinfo=zone).astimezone(UTC)
        b0 = datetime.combine(day, BUSINESS_START).replace(tzinfo=zone).astimezone(UTC)
        b1 = datetime.combine(day, BUSINESS_END).replace(tzinfo=zone).astimezone(UTC)

        def overlap(a, b):
            return max((min(b, end) - max(a, start)).total_seconds(), 0) / 3600

        if day.weekday() >= 5:
            weekends += overlap(d0, d1)
        else:
            in_business = overlap(b0, b1)
            business += in_business
            nights += overlap(d0, d1) - in_business
        day += timedelta(days=1)
    return business, nights, weekends


def _layer_order(layer: str) -> tuple:
    return (layer != Rotation.PRIMARY, layer != Rotation.SECONDARY, layer)


def team_load(team: Team, first_month: date, months: int = 1, now: datetime | None = None) -> list[LoadRow]:
    """Hours on call per person, layer and month (team zone), overrides applied, split at ``now``.

    Each layer counts apart (a person primary one week and secondary the next
    has two rows). Hours before ``now`` are ``worked``, the rest ``scheduled``.
    """
    now = now or djtz.now()
    zone = ZoneInfo(team.timezone)
    bounds = []
    month = first_month.replace(day=1)
    for _ in range(months + 1):
        bounds.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    instants = [datetime.combine(m, time()).replace(tzinfo=zone).astimezone(UTC) for m in bounds]
    rotations = load_rotations([team], overrides_between=(instants[0], instants[-1]))
    rows: dict[tuple[int, date, str], LoadRow] = {}
    for i in range(months):
        for shift in shifts_of_rotations(rotations, instants[i], instants[i + 1]):
            layer = shift.rotation.layer
            row = rows.setdefault((shift.user.pk, bounds[i], layer), LoadRow(shift.user, bounds[i], layer))
            b, n, w = _split_hours(shift.start, shift.end, zone)
            row.business += b
            row.nights += n
            row.weekends += w
            row.worked += max((min(shift.end, now) - shift.start).total_seconds(), 0) / 3600
            row.scheduled += max((shift.end - max(shift.start, now)).total_seconds(), 0) / 3600
    return sorted(rows.values(), key=lambda r: (r.month, r.user.username, _layer_order(r.layer)))


def rotations_with_overrides(team: Team):
    """For the YAML export: every rotation of the team, all participants and all overrides, in order."""
    return Rotation.objects.filter(team=team).prefetch_related(
        Prefetch("participants", queryset=RotationParticipant.objects.select_related("user")),
        Prefetch("overrides", queryset=Override.objects.select_related("user").order_by("start_at", "created_at", "id")),
    ).order_by("layer", "name")


# Said for a username that does not exist and for one a lead may not add (an administrator),
# so the answer does not tell which usernames exist.
UNKNOWN_MEMBER = "Unknown user {value!r}; give the username of an active person who is not an administrator."


def addable_members(by):
    """Whom ``by`` may add to a team: anyone active for staff; active non-staff people for a lead."""
    people = User.objects.filter(is_active=True)
    return people if by is None or by.is_staff else people.filter(is_staff=False)


# --- Escalation targets ----------------------------------------------------------

@dataclass
class Reached:
    """Who one policy target reaches at one instant, and how to say it on a timeline."""

    target: dict
    label: str
    people: list[User] = field(default_factory=list)


def reach_targets(targets: list[dict], *, team_id: int, at: datetime, on_call: dict | None = None) -> list[Reached]:
    """The people each stored target (``oncall.models.escalation``) reaches at ``at``.

    A rotation reaches whoever its final shifts (overrides included) put on
    call; a layer everyone on call in that layer of the policy's team (``team_id``);
    ``team_leads``/``team_managers``/``team`` the team's leads, managers or
    members. Deactivated people are never reached. ``on_call`` is a cache
    ``{team_id: [OnCall]}`` shared by callers that resolve many runs at once.
    Constant queries per call: people, memberships, and who-is-on-call per team not cached.
    """
    on_call = {} if on_call is None else on_call
    kinds = {t["type"] for t in targets}
    rotation_ids = [t["id"] for t in targets if t["type"] == "rotation"]
    teams_on_call = set(Rotation.objects.filter(pk__in=rotation_ids).values_list("team_id", flat=True)) \
        if rotation_ids else set()
    if "layer" in kinds:
        teams_on_call.add(team_id)
    missing = [t for t in teams_on_call if t not in on_call]
    if missing:
        for t in missing:
            on_call[t] = []
        for entry in who_is_on_call(at, teams=Team.objects.filter(pk__in=missing)):
            on_call[entry.team.pk].append(entry)
    users = User.objects.in_bulk([t["id"] for t in targets if t["type"] == "user"]) if "user" in kinds else {}
    roles = {"team_leads": ["lead"], "team_managers": ["manager"], "team": ["member", "lead", "manager"]}
    member_teams = {t["id"] for t in targets if t["type"] in roles}
    members: dict[int, list] = defaultdict(list)
    if member_teams:
        for m in Membership.objects.filter(team_id__in=member_teams, user__is_active=True).select_related("user", "team"):
            members[m.team_id].append(m)
    out = []
    for target in targets:
        kind, ident = target["type"], target["id"]
        if kind == "user":
            user = users.get(ident)
            people = [user] if user is not None and user.is_active else []
            label = user.display_name if user is not None else "a deleted person"
        elif kind == "rotation":
            entries = [e for entries in on_call.values() for e in entries if e.rotation.pk == ident]
            people = [e.user for e in entries if e.user.is_active]
            label = f"on call in {entries[0].rotation.name}" if entries else "on call in a rotation with nobody on call"
        elif kind == "layer":
            people = [e.user for e in on_call.get(team_id, []) if e.layer == ident and e.user.is_active]
            label = f"on call in the {ident} layer"
        else:
            rows = [m for m in members.get(ident, []) if m.role in roles[kind]]
            people = [m.user for m in rows]
            name = rows[0].team.name if rows else "the team"
            label = {"team_leads": f"leads of {name}", "team_managers": f"managers of {name}",
                     "team": f"everyone in {name}"}[kind]
        out.append(Reached(target, label, people))
    return out
