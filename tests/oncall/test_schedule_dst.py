"""Hand-offs keep their local wall-clock time across daylight-saving changes."""

from zoneinfo import ZoneInfo

from oncall.schedule import final_shifts, layer_gaps
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


def test_follow_the_sun_layer_of_two_zones_has_gaps_only_while_their_dst_dates_differ(make_rotation, alice, nora):
    every_day = [0, 1, 2, 3, 4, 5, 6]
    europe = make_rotation(name="EU days", participants=[alice], shift_length="P1D", handoff_at="2026-03-01T09:00",
                           timezone="Europe/Berlin",
                           restrictions=[{"days": every_day, "start": "09:00", "end": "21:00"}])
    america = make_rotation(name="US nights", participants=[nora], shift_length="P1D",
                            handoff_at="2026-02-28T15:00", timezone="America/New_York",
                            restrictions=[{"days": every_day, "start": "15:00", "end": "03:00"}])

    gaps = layer_gaps([europe, america], utc(2026, 3, 2), utc(2026, 4, 5))

    # New York moves its clocks on 8 March, Berlin on 29 March: for those three weeks the US night ends
    # at 07:00 UTC and the Berlin day starts at 08:00 UTC. Before and after, the two halves meet exactly.
    assert gaps == [(utc(2026, 3, d, 7), utc(2026, 3, d, 8)) for d in range(8, 29)]
    evening = final_shifts(america, utc(2026, 3, 10), utc(2026, 3, 11))
    assert table(evening) == [("nora", "2026-03-10T00:00:00+00:00", "2026-03-10T07:00:00+00:00", False),
                              ("nora", "2026-03-10T19:00:00+00:00", "2026-03-11T00:00:00+00:00", False)]
