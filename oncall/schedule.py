"""THE schedule computation: final shifts of a rotation, and who is on call.

Every reader (API ``shifts/`` and ``oncall/``, pages, calendar feeds, load
reports, hand-off and reminder tasks, escalation) goes through
``final_shifts`` or ``who_is_on_call``; nothing else turns rotations into
shifts.

How a rotation becomes shifts:

1. Hand-off *k* is the first hand-off's local wall-clock reading plus *k*
   shift lengths, in naive local arithmetic, then placed in the rotation's
   zone with ``zoneinfo``. A Monday 09:00 Europe/Berlin hand-off is therefore
   09:00 local in winter and in summer, and the shift across the DST change
   is an hour shorter or longer in real time. (Adding ``timedelta(days=7)``
   to a UTC instant would drift by an hour instead.)
2. Shift *k* goes to participant ``k mod n`` of the participant set in force;
   if the set changes at a moment inside a shift, the shift is split there.
3. Restrictions (weekly local windows) cut shifts; outside them the rotation
   leaves a gap.
4. Overrides are painted on top; where overrides overlap the one created
   last wins. Overrides also fill restriction gaps: they are explicit.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q
from django.utils import timezone as djtz

from .models import Override, Rotation, RotationParticipant, Team, User
from .models.schedule import parse_hhmm

# A DST change moves a hand-off by at most this much in real time.
_DST_SLACK = timedelta(hours=3)

# Where shift arithmetic stops: a week inside Python's calendar (years 1 to 9999), so that
# converting to any zone, and the day-by-day walks around a window, still work. Writes keep
# every instant far inside it (``core.instants``); these only keep rows from before that
# readable (a 500,000-week shift), and windows widened around a long override finite.
_CALENDAR_START = datetime(1, 1, 8, tzinfo=UTC)
_CALENDAR_END = datetime(9999, 12, 24, tzinfo=UTC)


def moved(instant: datetime, delta: timedelta) -> datetime:
    """``instant + delta``, stopping at the calendar's ends instead of raising OverflowError."""
    try:
        result = instant + delta
    except OverflowError:
        return _CALENDAR_END if delta > timedelta(0) else _CALENDAR_START
    return min(max(result, _CALENDAR_START), _CALENDAR_END)


@dataclass(frozen=True)
class Shift:
    user: User
    start: datetime
    end: datetime
    override: bool = False
    override_id: int | None = None
    rotation: Rotation | None = field(default=None, compare=False, repr=False)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class OnCall:
    team: Team
    rotation: Rotation
    layer: str
    user: User
    shift_start: datetime
    shift_end: datetime
    override: bool = False


def _aware(value: datetime) -> datetime:
    if djtz.is_naive(value):
        raise ValueError("Schedule times must be timezone-aware instants.")
    return value.astimezone(UTC)


def _clock(rotation: Rotation) -> tuple[datetime, timedelta, ZoneInfo]:
    return rotation.first_handoff, rotation.step, ZoneInfo(rotation.timezone)


def handoff_instant(rotation: Rotation, k: int, clock=None) -> datetime:
    """Hand-off number ``k`` (0 = the first) as a UTC instant, keeping local wall-clock time.

    A reading that falls in a spring-forward gap resolves with the offset in
    force before the change (fold=0), i.e. the hand-off moves forward by the
    gap; an ambiguous autumn reading takes its first occurrence.
    """
    first, step, zone = clock or _clock(rotation)
    try:
        local = first + step * k
    except OverflowError:  # past the calendar's end: shift k never comes
        return _CALENDAR_END if k > 0 else _CALENDAR_START
    try:
        return min(max(local.replace(tzinfo=zone).astimezone(UTC), _CALENDAR_START), _CALENDAR_END)
    except OverflowError:  # a reading within a day of year 1 or 9999 whose instant lies outside them
        return _CALENDAR_END if local.year > 1 else _CALENDAR_START


def _first_index_before(rotation: Rotation, instant: datetime, clock) -> int:
    """An index whose hand-off is at or before ``instant`` (possibly a few earlier)."""
    first, step, zone = clock
    local = instant.astimezone(zone).replace(tzinfo=None)
    k = (local - first) // step
    k -= 1
    while k > 0 and handoff_instant(rotation, k, clock) > instant:
        k -= 1
    return max(k, 0)


def _participant_versions(rotation: Rotation) -> tuple[list[datetime], list[list[User]]]:
    """Participant sets ordered by effective_from, from prefetched rows when present."""
    rows = sorted(rotation.participants.all(), key=lambda p: (p.effective_from, p.position))
    moments: list[datetime] = []
    sets: list[list[User]] = []
    for row in rows:
        if not moments or moments[-1] != row.effective_from:
            moments.append(row.effective_from)
            sets.append([])
        sets[-1].append(row.user)
    return moments, sets


def _restriction_windows(rotation: Rotation, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The rotation's allowed windows overlapping [start, end), as merged UTC intervals."""
    zone = ZoneInfo(rotation.timezone)
    first_day = start.astimezone(zone).date() - timedelta(days=2)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    spans = []
    day = first_day
    while day <= last_day:
        for window in rotation.restrictions:
            if day.weekday() not in window["days"]:
                continue
            s_local = datetime.combine(day, parse_hhmm(window["start"]))
            e_local = datetime.combine(day, parse_hhmm(window["end"]))
            if e_local <= s_local:
                e_local += timedelta(days=1)
            s = s_local.replace(tzinfo=zone).astimezone(UTC)
            e = e_local.replace(tzinfo=zone).astimezone(UTC)
            if e > start and s < end and e > s:
                spans.append((max(s, start), min(e, end)))
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def base_shifts(rotation: Rotation, start: datetime, end: datetime) -> list[Shift]:
    """The rotation's own shifts in [start, end), before overrides, restrictions applied."""
    start, end = _aware(start), _aware(end)
    if rotation.ends_at is not None:
        end = min(end, rotation.ends_at)
    if end <= start:
        return []
    moments, sets = _participant_versions(rotation)
    if not sets:
        return []
    out: list[Shift] = []
    last_k = None
    clock = _clock(rotation)
    k = _first_index_before(rotation, start, clock)
    shift_start = handoff_instant(rotation, k, clock)
    while shift_start < end:
        shift_end = max(handoff_instant(rotation, k + 1, clock), shift_start)
        lo, hi = max(shift_start, start), min(shift_end, end)
        if lo < hi:
            # Split where the participant set changes inside the shift.
            cuts = [lo] + [m for m in moments if lo < m < hi] + [hi]
            for a, b in zip(cuts, cuts[1:], strict=False):
                version = max(bisect_right(moments, a) - 1, 0)
                people = sets[version]
                if people:
                    user = people[k % len(people)]
                    if out and last_k == k and out[-1].end == a and out[-1].user.pk == user.pk:
                        # Same person either side of a participant change: one shift.
                        out[-1] = Shift(user, out[-1].start, b, rotation=rotation)
                    else:
                        out.append(Shift(user, a, b, rotation=rotation))
                    last_k = k
        k += 1
        shift_start = shift_end
    if rotation.restrictions:
        out = _restrict(out, _restriction_windows(rotation, start, end))
    return out


def _restrict(shifts: list[Shift], windows: list[tuple[datetime, datetime]]) -> list[Shift]:
    out = []
    i = 0
    for shift in shifts:
        while i < len(windows) and windows[i][1] <= shift.start:
            i += 1
        j = i
        while j < len(windows) and windows[j][0] < shift.end:
            lo, hi = max(shift.start, windows[j][0]), min(shift.end, windows[j][1])
            if lo < hi:
                out.append(Shift(shift.user, lo, hi, rotation=shift.rotation))
            j += 1
    return out


def _overrides_for(rotation: Rotation, start: datetime, end: datetime, overrides) -> list[Override]:
    if overrides is None:
        cache = getattr(rotation, "_prefetched_objects_cache", {})
        if "overrides" in cache:
            overrides = cache["overrides"]
        else:
            overrides = rotation.overrides.overlapping(start, end).select_related("user")
    return [o for o in overrides if o.start_at < end and o.end_at > start]


def final_shifts(rotation: Rotation, start: datetime, end: datetime,
                 overrides: Iterable[Override] | None = None) -> list[Shift]:
    """Final shifts of ``rotation`` in [start, end), overrides applied, in time order.

    Guarantees: shifts never overlap; each is clipped to the window; adjacent
    pieces of the same shift or the same override are merged. Overrides are
    read from ``overrides`` if given, else from a prefetch of
    ``rotation.overrides``, else with one query. Participants are read from
    ``rotation.participants`` (prefetch them with ``rotation_queryset``).
    """
    start, end = _aware(start), _aware(end)
    if end <= start:
        return []
    base = base_shifts(rotation, start, end)
    ovs = _overrides_for(rotation, start, end, overrides)
    if not ovs:
        return base
    ovs = sorted(ovs, key=lambda o: (o.created_at, o.id))
    rank = {o.id: n for n, o in enumerate(ovs)}

    points = {start, end}
    for s in base:
        points.update((s.start, s.end))
    for o in ovs:
        points.update((max(o.start_at, start), min(o.end_at, end)))
    points = sorted(p for p in points if start <= p <= end)

    by_start = sorted(ovs, key=lambda o: o.start_at)
    heap: list[tuple[int, Override]] = []  # (-rank, override): the latest created on top
    oi = 0
    bi = 0
    out: list[Shift] = []
    last_key = piece_key = None
    for a, b in zip(points, points[1:], strict=False):
        while oi < len(by_start) and by_start[oi].start_at <= a:
            o = by_start[oi]
            heapq.heappush(heap, (-rank[o.id], o.id, o))
            oi += 1
        while heap and heap[0][2].end_at <= a:
            heapq.heappop(heap)
        if heap:
            o = heap[0][2]
            piece = Shift(o.user, a, b, override=True, override_id=o.id, rotation=rotation)
        else:
            while bi < len(base) and base[bi].end <= a:
                bi += 1
            if bi < len(base) and base[bi].start <= a:
                piece = Shift(base[bi].user, a, b, rotation=rotation)
                piece_key = ("b", bi)
            else:
                continue
        key = ("o", piece.override_id) if piece.override else piece_key
        if out and out[-1].end == a and last_key == key:
            out[-1] = Shift(piece.user, out[-1].start, b, piece.override, piece.override_id, rotation)
        else:
            out.append(piece)
        last_key = key
    return out


def shift_at(rotation: Rotation, at: datetime, overrides: Sequence[Override] | None = None) -> Shift | None:
    """The final shift containing ``at``, with its full extent (not clipped to a window)."""
    at = _aware(at)
    span = rotation.step + _DST_SLACK
    for _ in range(8):
        lo, hi = moved(at, -span), moved(at, span)
        found = next((s for s in final_shifts(rotation, lo, hi, overrides) if s.start <= at < s.end), None)
        if found is None:
            return None
        if found.start > lo and found.end < hi:
            return found
        if lo == _CALENDAR_START and hi == _CALENDAR_END:
            return found  # no wider window to look in
        # The shift reaches the window's edge (a long override): widen and look again.
        span *= 4
    return found


def next_shift(rotation: Rotation, after: datetime, overrides: Sequence[Override] | None = None,
               horizon: timedelta = timedelta(days=35)) -> Shift | None:
    """The first final shift starting after ``after`` (within ``horizon``)."""
    after = _aware(after)
    for s in final_shifts(rotation, after, after + horizon, overrides):
        if s.start > after:
            return shift_at(rotation, s.start, overrides) or s
    return None


# The user columns shifts show (name, email for notices, zone for local times): loading whole
# user rows for every participant was most of who-is-on-call's time for 200 teams.
USER_FIELDS = ("username", "full_name", "first_name", "last_name", "email", "timezone", "phone", "is_active")


def rotation_queryset(teams=None, *, overrides_between: tuple[datetime, datetime] | None = None):
    """Rotations with participants (and optionally overrides in a window) prefetched: 3–4 queries."""
    qs = Rotation.objects.select_related("team").prefetch_related(
        Prefetch("participants", queryset=RotationParticipant.objects.select_related("user").only(
            "rotation_id", "position", "effective_from", *(f"user__{f}" for f in USER_FIELDS))),
    )
    if teams is not None:
        qs = qs.filter(team__in=teams)
    if overrides_between is not None:
        lo, hi = overrides_between
        qs = qs.prefetch_related(
            Prefetch("overrides", queryset=Override.objects.overlapping(lo, hi).select_related("user").only(
                "rotation_id", "start_at", "end_at", "created_at", "reason", *(f"user__{f}" for f in USER_FIELDS))),
        )
    return qs.order_by("team__name", "layer", "name")


@dataclass(frozen=True)
class Place:
    """A participant row as ``load_rotations`` loads it: the fields shift computation reads."""

    user: User
    position: int
    effective_from: datetime


class PersonRef:
    """A participant known by id only: ``load_rotations(people=False)`` puts these where users would be."""

    __slots__ = ("pk",)

    def __init__(self, pk: int):
        self.pk = pk

    def __eq__(self, other) -> bool:
        return getattr(other, "pk", None) == self.pk

    def __hash__(self) -> int:
        return hash(self.pk)


def _set_person(override: Override, person) -> None:
    # Into the relation's cache, as select_related would: the ``user`` descriptor accepts only users.
    Override.user.field.set_cached_value(override, person)


def load_rotations(teams=None, *, overrides_between: tuple[datetime, datetime] | None = None,
                   rotations=None, people: bool = True) -> list[Rotation]:
    """Rotations ready for shift computation, in five queries whatever their number (four without people).

    The bulk path for who-is-on-call, pages, reports and tasks. Unlike
    ``rotation_queryset`` it loads each person and team once (not once per
    row that mentions them) and participants as plain ``Place`` rows: for 200
    teams that halves the time spent building model instances. The rows are
    put where a prefetch would put them, so ``rotation.participants.all()``
    and ``rotation.overrides.all()`` read them. With ``people=False`` no one
    is loaded: participants and overriders are ``PersonRef``s (a query less,
    for callers that load only the people their answer names).
    """
    qs = rotations if rotations is not None else Rotation.objects.all()
    if teams is not None:
        qs = qs.filter(team__in=teams)
    found = list(qs.order_by("team_id", "layer", "name"))
    if not found:
        return []
    ids = [r.pk for r in found]
    # A subquery, not a list of ids: one short statement however many rotations.
    chosen = qs.values("pk")
    rows = list(RotationParticipant.objects.filter(rotation_id__in=chosen)
                .values_list("rotation_id", "user_id", "position", "effective_from"))
    overrides = []
    if overrides_between is not None:
        lo, hi = overrides_between
        overrides = list(Override.objects.filter(rotation_id__in=chosen).overlapping(lo, hi).defer("reason"))
    # Subqueries again, not id lists: a list of a thousand ids costs more to
    # build and parse (client side) than the rows it fetches.
    if people:
        named = Q(pk__in=RotationParticipant.objects.filter(rotation_id__in=chosen).values("user_id"))
        if overrides_between is not None:
            named |= Q(pk__in=Override.objects.filter(rotation_id__in=chosen).overlapping(lo, hi).values("user_id"))
        users = {u.pk: u for u in User.objects.only(*USER_FIELDS).filter(named)}
    else:
        users = {pk: PersonRef(pk) for pk in {row[1] for row in rows} | {o.user_id for o in overrides}}
    teams_by_id = {t.pk: t for t in Team.objects.filter(pk__in=qs.values("team_id"))}
    places: dict[int, list[Place]] = {pk: [] for pk in ids}
    for rotation_id, user_id, position, effective_from in rows:
        if rotation_id in places:  # a rotation created between the two queries is skipped
            places[rotation_id].append(Place(users[user_id], position, effective_from))
    by_rotation: dict[int, list[Override]] = {pk: [] for pk in ids}
    for override in overrides:
        if override.rotation_id in by_rotation:
            _set_person(override, users[override.user_id])
            by_rotation[override.rotation_id].append(override)
    for rotation in found:
        rotation.team = teams_by_id[rotation.team_id]
        cache = {"participants": places[rotation.pk]}
        if overrides_between is not None:
            cache["overrides"] = by_rotation[rotation.pk]
        rotation._prefetched_objects_cache = cache
    found.sort(key=lambda r: (r.team.name, r.layer, r.name))
    return found


# Who-is-on-call loads, in its one bulk query, the overrides within _ONCALL_NEAR
# of ``at``: enough to know the whole current shift of any rotation whose shifts
# are at most a week long. A final shift that lies strictly inside that window is
# exact (no override outside it can change who is on call inside it). Where the
# current shift reaches the window's edge (a long shift, or a long override), the
# rotation is computed again with overrides as far as _ONCALL_FAR: one more query
# for all such rotations together, and none for the common weekly and daily case.
_ONCALL_NEAR = timedelta(days=9)
_ONCALL_FAR = timedelta(days=400)


def who_is_on_call(at: datetime | None = None, teams=None, *, include_gaps: bool = False) -> list[OnCall]:
    """Who is on call at ``at`` in every rotation of ``teams`` (all teams if None).

    Runs in a constant number of queries however many teams (``load_rotations``:
    rotations, participants, overrides, teams; the people on call; plus one for long shifts).
    With ``include_gaps`` a rotation with nobody on call appears with ``user=None``.
    """
    at = _aware(at or djtz.now())
    lo, hi = at - _ONCALL_NEAR, at + _ONCALL_NEAR
    # Computed with people known by id; only those on call are loaded, at the end.
    rotations = load_rotations(teams, overrides_between=(lo, hi), people=False)
    current = {rotation.pk: shift_at(rotation, at) for rotation in rotations}
    wide = [
        rotation for rotation in rotations
        if rotation.step + _DST_SLACK > _ONCALL_NEAR
        or (current[rotation.pk] is not None and (current[rotation.pk].start <= lo or current[rotation.pk].end >= hi))
    ]
    if wide:
        far: dict[int, list[Override]] = {rotation.pk: [] for rotation in wide}
        for override in (Override.objects.filter(rotation__in=wide)
                         .overlapping(at - _ONCALL_FAR, at + _ONCALL_FAR).defer("reason")):
            _set_person(override, PersonRef(override.user_id))
            far[override.rotation_id].append(override)
        for rotation in wide:
            current[rotation.pk] = shift_at(rotation, at, far[rotation.pk])
    on_call = {shift.user.pk for shift in current.values() if shift is not None}
    users = User.objects.only(*USER_FIELDS).in_bulk(on_call) if on_call else {}
    out = []
    for rotation in rotations:
        shift = current[rotation.pk]
        user = users.get(shift.user.pk) if shift is not None else None  # None: deleted in between
        if user is None:
            if include_gaps:
                out.append(OnCall(rotation.team, rotation, rotation.layer, None, None, None))
            continue
        out.append(OnCall(rotation.team, rotation, rotation.layer, user, shift.start, shift.end, shift.override))
    return out


def layer_gaps(rotations: Iterable[Rotation], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Intervals in [start, end) when none of ``rotations`` (one layer) has anyone on call."""
    covered = sorted((s.start, s.end) for r in rotations for s in final_shifts(r, start, end))
    gaps = []
    cursor = start
    for s, e in covered:
        if s > cursor:
            gaps.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps

