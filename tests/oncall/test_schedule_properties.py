"""Properties of final shifts for any rotation, checked with hypothesis.

The rotations are built in memory (participants and overrides placed in the
prefetch cache, as ``rotation_queryset`` does), so thousands of examples run
without touching the database; ``final_shifts`` is the real function.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.models import Override, Rotation, RotationParticipant, User
from oncall.schedule import final_shifts

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns"]
PEOPLE = [User(pk=n, username=f"p{n}") for n in range(1, 6)]
START = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def rotations(draw, restricted=False):
    unit = draw(st.sampled_from(["hours", "days", "weeks"]))
    count = draw(st.integers(1, {"hours": 48, "days": 10, "weeks": 3}[unit]))
    rotation = Rotation(
        pk=1, name="r", layer="primary", shift_unit=unit, shift_count=count,
        timezone=draw(st.sampled_from(ZONES)),
        handoff_date=date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 30))),
        handoff_time=time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))),
        restrictions=[],
    )
    if restricted:
        rotation.restrictions = draw(st.lists(st.fixed_dictionaries({
            "days": st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True),
            "start": st.sampled_from(["00:00", "02:30", "09:00", "17:00", "22:00"]),
            "end": st.sampled_from(["00:00", "03:00", "09:00", "17:00", "23:30"]),
        }), min_size=1, max_size=3))
    people = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4))
    participants = [RotationParticipant(rotation=rotation, user=u, position=i, effective_from=START)
                    for i, u in enumerate(people)]
    if draw(st.booleans()):
        moment = START + timedelta(hours=draw(st.integers(24 * 30, 24 * 80)))
        later = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4))
        participants += [RotationParticipant(rotation=rotation, user=u, position=i, effective_from=moment)
                         for i, u in enumerate(later)]
    overrides = []
    for n in range(draw(st.integers(0, 6))):
        begin = START + timedelta(minutes=30 * draw(st.integers(0, 24 * 2 * 90)))
        length = timedelta(minutes=30 * draw(st.integers(1, 24 * 2 * 12)))
        overrides.append(Override(pk=n + 1, rotation=rotation, user=draw(st.sampled_from(PEOPLE)),
                                  start_at=begin, end_at=begin + length, created_at=START + timedelta(seconds=n)))
    rotation._prefetched_objects_cache = {"participants": participants, "overrides": overrides}
    return rotation


windows = st.tuples(st.integers(32 * 24, 90 * 24), st.integers(1, 40 * 24)).map(
    lambda t: (START + timedelta(hours=t[0]), START + timedelta(hours=t[0] + t[1]))
)


def _assert_ordered_and_disjoint(shifts, start, end):
    for s in shifts:
        assert start <= s.start < s.end <= end
    for a, b in zip(shifts, shifts[1:], strict=False):
        assert a.end <= b.start, f"{a} overlaps {b}"


@settings(max_examples=300, deadline=None)
@given(rotation=rotations(), window=windows)
def test_unrestricted_final_shifts_tile_the_window_exactly(rotation, window):
    # Windows start after day 32, so after the first hand-off (at most day 31): always someone on call.
    start, end = window
    shifts = final_shifts(rotation, start, end)

    _assert_ordered_and_disjoint(shifts, start, end)
    assert shifts[0].start == start and shifts[-1].end == end
    for a, b in zip(shifts, shifts[1:], strict=False):
        assert a.end == b.start, "no gap inside active hours"
    assert sum((s.duration for s in shifts), timedelta()) == end - start


def _in_restriction(rotation, instant):
    local = instant.astimezone(ZoneInfo(rotation.timezone))
    for window in rotation.restrictions:
        for back in (0, 1):
            day = local.date() - timedelta(days=back)
            if day.weekday() not in window["days"]:
                continue
            s = datetime.combine(day, time.fromisoformat(window["start"]))
            e = datetime.combine(day, time.fromisoformat(window["end"]))
            if e <= s:
                e += timedelta(days=1)
            zone = ZoneInfo(rotation.timezone)
            if s.replace(tzinfo=zone).astimezone(UTC) <= instant < e.replace(tzinfo=zone).astimezone(UTC):
                return True
    return False


@settings(max_examples=200, deadline=None)
@given(rotation=rotations(restricted=True), window=windows, probes=st.lists(st.floats(0, 1), min_size=5, max_size=20))
def test_restricted_shifts_never_overlap_and_cover_exactly_the_allowed_hours(rotation, window, probes):
    start, end = window
    shifts = final_shifts(rotation, start, end)
    overrides = rotation._prefetched_objects_cache["overrides"]

    _assert_ordered_and_disjoint(shifts, start, end)
    for p in probes:
        instant = start + (end - start) * p
        instant = instant.replace(microsecond=0)
        if instant >= end:
            continue
        covered = any(s.start <= instant < s.end for s in shifts)
        expected = _in_restriction(rotation, instant) or any(o.start_at <= instant < o.end_at for o in overrides)
        assert covered == expected, instant


@settings(max_examples=200, deadline=None)
@given(rotation=rotations(), window=windows)
def test_the_latest_override_covering_an_instant_is_who_is_on_call(rotation, window):
    start, end = window
    shifts = final_shifts(rotation, start, end)
    overrides = rotation._prefetched_objects_cache["overrides"]

    for s in shifts:
        for instant in (s.start, s.end - timedelta(seconds=1)):
            covering = [o for o in overrides if o.start_at <= instant < o.end_at]
            if covering:
                assert s.override and s.user == covering[-1].user
            else:
                assert not s.override
