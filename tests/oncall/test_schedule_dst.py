"""Hand-offs keep their local wall-clock time across daylight-saving changes."""

from zoneinfo import ZoneInfo

from oncall.schedule import final_shifts
from tests.oncall.helpers import table, utc

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_weekly_berlin_handoff_stays_monday_nine_across_spring_change(make_rotation, alice, bob):
    rotation = make_rotation(participants=[alice, bob], handoff_at="2026-03-16T09:00")

    shifts = final_shifts(rotation, utc(2026, 3, 16, 8), utc(2026, 4, 6, 7))

    assert table(shifts) == [
        ("alice", "2026-03-16T08:00:00+00:00", "2026-03-23T08:00:00+00:00", False),
        # The week with the change (Sunday 29 March) is 167 hours long.
        ("bob", "2026-03-23T08:00:00+00:00", "2026-03-30T07:00:00+00:00", False),
        ("alice", "2026-03-30T07:00:00+00:00", "2026-04-06T07:00:00+00:00", False),
    ]
    assert [s.start.astimezone(BERLIN).strftime("%a %H:%M") for s in shifts] == ["Mon 09:00"] * 3
    assert shifts[1].duration.total_seconds() == 167 * 3600


def test_weekly_berlin_handoff_stays_monday_nine_across_autumn_change(make_rotation, alice, bob):
    rotation = make_rotation(participants=[alice, bob], handoff_at="2026-03-16T09:00")

    shifts = final_shifts(rotation, utc(2026, 10, 12, 7), utc(2026, 11, 2, 8))

    # 30 weeks after 16 March is 12 October: alice's turn again (even index).
    assert table(shifts) == [
        ("alice", "2026-10-12T07:00:00+00:00", "2026-10-19T07:00:00+00:00", False),
        ("bob", "2026-10-19T07:00:00+00:00", "2026-10-26T08:00:00+00:00", False),
        ("alice", "2026-10-26T08:00:00+00:00", "2026-11-02T08:00:00+00:00", False),
    ]
    assert [s.end.astimezone(BERLIN).strftime("%a %H:%M") for s in shifts] == ["Mon 09:00"] * 3
    assert shifts[1].duration.total_seconds() == 169 * 3600


def test_daily_new_york_rotation_across_both_changes(make_rotation, alice, bob, nora):
    rotation = make_rotation(participants=[alice, bob, nora], shift_length="P1D",
                             handoff_at="2026-03-06T09:00", timezone="America/New_York")

    spring = final_shifts(rotation, utc(2026, 3, 6, 14), utc(2026, 3, 10, 13))
    assert table(spring) == [
        ("alice", "2026-03-06T14:00:00+00:00", "2026-03-07T14:00:00+00:00", False),
        # Sunday 8 March 02:00 EST becomes 03:00 EDT: the Saturday shift lasts 23 hours.
        ("bob", "2026-03-07T14:00:00+00:00", "2026-03-08T13:00:00+00:00", False),
        ("nora", "2026-03-08T13:00:00+00:00", "2026-03-09T13:00:00+00:00", False),
        ("alice", "2026-03-09T13:00:00+00:00", "2026-03-10T13:00:00+00:00", False),
    ]

    autumn = final_shifts(rotation, utc(2026, 10, 31, 13), utc(2026, 11, 2, 14))
    # 239 days after 6 March: 239 % 3 == 2, so nora has Saturday 31 October.
    assert table(autumn) == [
        ("nora", "2026-10-31T13:00:00+00:00", "2026-11-01T14:00:00+00:00", False),
        ("alice", "2026-11-01T14:00:00+00:00", "2026-11-02T14:00:00+00:00", False),
    ]
    assert {s.start.astimezone(NEW_YORK).strftime("%H:%M") for s in spring + autumn} == {"09:00"}


def test_weekly_new_york_rotation_across_spring_change(make_rotation, alice, bob):
    rotation = make_rotation(participants=[alice, bob], handoff_at="2026-03-02T09:00",
                             timezone="America/New_York")

    shifts = final_shifts(rotation, utc(2026, 3, 2, 14), utc(2026, 3, 16, 13))

    assert table(shifts) == [
        ("alice", "2026-03-02T14:00:00+00:00", "2026-03-09T13:00:00+00:00", False),
        ("bob", "2026-03-09T13:00:00+00:00", "2026-03-16T13:00:00+00:00", False),
    ]


def test_twelve_hour_follow_the_sun_pair_in_two_zones(make_rotation, alice, nora):
    # Alice in Berlin takes the day, Nora in New York the night, hand-offs at 09:00 and 21:00 Berlin.
    rotation = make_rotation(participants=[alice, nora], shift_length="PT12H",
                             handoff_at="2026-03-28T09:00", timezone="Europe/Berlin")

    shifts = final_shifts(rotation, utc(2026, 3, 28, 8), utc(2026, 3, 29, 19))

    assert table(shifts) == [
        ("alice", "2026-03-28T08:00:00+00:00", "2026-03-28T20:00:00+00:00", False),
        # The night of the change is 11 hours; the wall-clock hand-off stays 09:00.
        ("nora", "2026-03-28T20:00:00+00:00", "2026-03-29T07:00:00+00:00", False),
        ("alice", "2026-03-29T07:00:00+00:00", "2026-03-29T19:00:00+00:00", False),
    ]
    # In Nora's own zone her night shift runs 16:00 to 03:00 (New York is already on summer time).
    night = shifts[1]
    assert night.start.astimezone(NEW_YORK).strftime("%H:%M") == "16:00"
    assert night.end.astimezone(NEW_YORK).strftime("%H:%M") == "03:00"


def test_no_one_is_on_call_before_the_first_handoff_or_after_the_end(make_rotation, alice, bob):
    rotation = make_rotation(participants=[alice, bob], handoff_at="2026-03-02T09:00",
                             ends_at=utc(2026, 3, 12, 0))

    shifts = final_shifts(rotation, utc(2026, 3, 1), utc(2026, 3, 20))

    assert table(shifts) == [
        ("alice", "2026-03-02T08:00:00+00:00", "2026-03-09T08:00:00+00:00", False),
        ("bob", "2026-03-09T08:00:00+00:00", "2026-03-12T00:00:00+00:00", False),
    ]
