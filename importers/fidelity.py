"""Proof of fidelity: does Vigil put the same person on call as the source, minute for minute?

For each imported schedule, Vigil's side is the union of ``oncall.schedule.final_shifts``
of the rotations it became (one per source layer: at most one of them has
someone at a time, see the adapters); the source's side is what it rendered
(PagerDuty's ``final_schedule.rendered_schedule_entries``). Every instant
where the two sets of people differ is reported, merged into intervals.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall.models import Rotation, User
from oncall.schedule import final_shifts

from . import records as r
from .models import ImportedObject

HORIZON = timedelta(days=28)


@dataclass
class Difference:
    schedule: str
    start: datetime
    end: datetime
    vigil: tuple[str, ...]
    source: tuple[str, ...]

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class Fidelity:
    since: datetime
    until: datetime
    checked: list[str]  # names of the schedules compared
    differences: list[Difference]
    notes: list[str]

    @property
    def minutes(self) -> int:
        return sum(d.minutes for d in self.differences)


def _who(intervals, a: datetime) -> tuple[str, ...]:
    return tuple(sorted({who for s, e, who in intervals if s <= a < e}))


def check_fidelity(export: r.Export, *, now: datetime) -> Fidelity:
    since, until = max(now, export.since), min(now + HORIZON, export.until)
    result = Fidelity(since, until, [], [], [])
    if until - since < HORIZON:
        result.notes.append(f"The source rendered its schedules from {export.since:%Y-%m-%d %H:%M} to "
                            f"{export.until:%Y-%m-%d %H:%M} UTC: only {until - since if until > since else 'no time'}"
                            " of the next 28 days can be compared (save a fresh export).")
    if until <= since:
        return result
    rows = {(o.kind, o.source_id): o.object_id for o in ImportedObject.objects.filter(
        source=export.source, kind__in=["rotation", "person"])}
    usernames = dict(User.objects.filter(pk__in=[pk for (kind, _), pk in rows.items() if kind == "person"])
                     .values_list("pk", "username"))
    for schedule in export.schedules:
        pks = [rows.get(("rotation", rot.source_id)) for rot in schedule.rotations]
        rotations = list(Rotation.objects.filter(pk__in=[pk for pk in pks if pk]).prefetch_related("participants__user"))
        if not schedule.rotations or len(rotations) < len(schedule.rotations):
            result.notes.append(f"{schedule.name}: not (fully) imported, not compared.")
            continue
        result.checked.append(schedule.name)
        vigil = [(s.start, s.end, s.user.username) for rot in rotations for s in final_shifts(rot, since, until)]
        source = [(max(e.start, since), min(e.end, until),
                   usernames.get(rows.get(("person", e.person_id)), f"{e.person_id} (not imported)"))
                  for e in schedule.rendered if e.end > since and e.start < until]
        points = sorted({since, until} | {t for s, e, _ in vigil + source for t in (s, e) if since <= t <= until})
        for a, b in zip(points, points[1:], strict=False):
            here, there = _who(vigil, a), _who(source, a)
            if here == there:
                continue
            last = result.differences[-1] if result.differences else None
            if last and last.schedule == schedule.name and last.end == a and (last.vigil, last.source) == (here, there):
                last.end = b
            else:
                result.differences.append(Difference(schedule.name, a, b, here, there))
    return result
