"""The fake PagerDuty renders schedules as worked out by hand from the fixtures (so the fidelity tests compare
Vigil with something right, not with itself)."""

import json
from datetime import timedelta

from tests.importers.pagerduty_fake import FIXTURES, NOW, render


def _schedule(schedule_id: str) -> tuple[dict, list]:
    schedules = json.loads((FIXTURES / "schedules.json").read_text())
    overrides = json.loads((FIXTURES / "overrides.json").read_text())
    return next(s for s in schedules if s["id"] == schedule_id), overrides[schedule_id]


def _entries(schedule_id: str, days_from: int, days: int) -> list[tuple[str, str, str]]:
    schedule, overrides = _schedule(schedule_id)
    since = NOW + timedelta(days=days_from)
    return [(e["start"], e["end"], e["user"]["id"]) for e in render(schedule, overrides, since,
                                                                     since + timedelta(days=days))]


def test_weekly_layer_under_a_weekend_layer_with_overrides():
    # Monday 1 March 2027, Berlin (UTC+1). Weekly turns from Monday 2 November 2026 09:00: 17 weeks on, the
    # third person, Chloé. Weekend turns from Saturday 7 November: 17 weeks on, the second, Elena. Kai's
    # override runs until 20:00 UTC; Ben's from Wednesday 18:00 to Thursday 09:00 local.
    assert _entries("PS1PAYP", 0, 7) == [
        ("2027-03-01T12:00:00Z", "2027-03-01T20:00:00Z", "PKAIM11"),
        ("2027-03-01T20:00:00Z", "2027-03-03T17:00:00Z", "PCHLO03"),
        ("2027-03-03T17:00:00Z", "2027-03-04T08:00:00Z", "PBENS02"),
        ("2027-03-04T08:00:00Z", "2027-03-05T23:00:00Z", "PCHLO03"),
        ("2027-03-05T23:00:00Z", "2027-03-07T23:00:00Z", "PELEN05"),
        ("2027-03-07T23:00:00Z", "2027-03-08T08:00:00Z", "PCHLO03"),
        ("2027-03-08T08:00:00Z", "2027-03-08T12:00:00Z", "PAMARA1"),  # 18 weeks on: the first again
    ]


def test_follow_the_sun_across_new_yorks_change_to_summer_time():
    # 14 March 2027 02:00 EST → 03:00 EDT. APAC 19:00–03:00 local is seven hours that night; EMEA 03:00 and
    # Americas 11:00 local are an hour earlier in UTC from then on; APAC hands over on Sunday 19:00 local.
    assert _entries("PS3FTSN", 12, 2) == [
        ("2027-03-13T12:00:00Z", "2027-03-13T16:00:00Z", "PJULI10"),
        ("2027-03-13T16:00:00Z", "2027-03-14T00:00:00Z", "PFARI06"),
        ("2027-03-14T00:00:00Z", "2027-03-14T07:00:00Z", "PHIRO08"),
        ("2027-03-14T07:00:00Z", "2027-03-14T15:00:00Z", "PJULI10"),
        ("2027-03-14T15:00:00Z", "2027-03-14T23:00:00Z", "PFARI06"),
        ("2027-03-14T23:00:00Z", "2027-03-15T07:00:00Z", "PGRAC07"),
        ("2027-03-15T07:00:00Z", "2027-03-15T12:00:00Z", "PIVAN09"),
    ]


def test_half_day_turns_keep_london_wall_clock_time_after_the_clocks_go_forward():
    # Friday 26 March 2027, still GMT: on call 09:00–17:00 UTC; turns at 09:00 and 21:00 local from Monday
    # 1 February 09:00: 53 days on, turn 106, 106 mod 3 = 1, Kai (the window opens at 12:00 UTC).
    # Monday 29 March, London now UTC+1: Julia's override, 08:00–18:00 local, is 07:00–17:00 UTC.
    # Tuesday 30 March: 09:00 local is 08:00 UTC; turn 114, 114 mod 3 = 0, Leo.
    assert _entries("PS4MOBL", 25, 4) == [
        ("2027-03-26T12:00:00Z", "2027-03-26T17:00:00Z", "PKAIM11"),
        ("2027-03-29T07:00:00Z", "2027-03-29T17:00:00Z", "PJULI10"),
        ("2027-03-30T08:00:00Z", "2027-03-30T12:00:00Z", "PLEON12"),
    ]
