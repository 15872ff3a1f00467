"""Overrides split shifts; the later override wins; layers, restrictions and participant changes."""

from datetime import timedelta

from oncall.models import Override
from oncall.schedule import final_shifts, who_is_on_call
from oncall.services import create_override, set_participants
from tests.oncall.helpers import table, utc


def test_override_straddling_a_handoff_splits_both_shifts(make_rotation, alice, bob, nora):
    rotation = make_rotation(participants=[alice, bob], handoff_at="2026-03-02T09:00")
    create_override(rotation=rotation, user=nora, start=utc(2026, 3, 8, 20), end=utc(2026, 3, 9, 12), by=alice)

    shifts = final_shifts(rotation, utc(2026, 3, 2, 8), utc(2026, 3, 16, 8))

    assert table(shifts) == [
        ("alice", "2026-03-02T08:00:00+00:00", "2026-03-08T20:00:00+00:00", False),
        ("nora", "2026-03-08T20:00:00+00:00", "2026-03-09T12:00:00+00:00", True),
        ("bob", "2026-03-09T12:00:00+00:00", "2026-03-16T08:00:00+00:00", False),
    ]


def test_nested_override_created_later_wins_inside_the_earlier_one(make_rotation, alice, bob, nora):
    rotation = make_rotation(participants=[alice], handoff_at="2026-03-02T09:00")
    create_override(rotation=rotation, user=nora, start=utc(2026, 3, 3), end=utc(2026, 3, 6), by=alice)
    create_override(rotation=rotation, user=bob, start=utc(2026, 3, 4), end=utc(2026, 3, 5), by=alice)

    shifts = final_shifts(rotation, utc(2026, 3, 2, 8), utc(2026, 3, 9, 8))

    assert table(shifts) == [
        ("alice", "2026-03-02T08:00:00+00:00", "2026-03-03T00:00:00+00:00", False),
        ("nora", "2026-03-03T00:00:00+00:00", "2026-03-04T00:00:00+00:00", True),
        ("bob", "2026-03-04T00:00:00+00:00", "2026-03-05T00:00:00+00:00", True),
        ("nora", "2026-03-05T00:00:00+00:00", "2026-03-06T00:00:00+00:00", True),
        ("alice", "2026-03-06T00:00:00+00:00", "2026-03-09T08:00:00+00:00", False),
    ]


def test_a_later_wider_override_hides_an_earlier_narrow_one(make_rotation, alice, bob, nora):
    rotation = make_rotation(participants=[alice], handoff_at="2026-03-02T09:00")
    create_override(rotation=rotation, user=bob, start=utc(2026, 3, 4), end=utc(2026, 3, 5), by=alice)
    create_override(rotation=rotation, user=nora, start=utc(2026, 3, 3), end=utc(2026, 3, 6), by=alice)

    shifts = final_shifts(rotation, utc(2026, 3, 2, 8), utc(2026, 3, 9, 8))

    assert table(shifts) == [
        ("alice", "2026-03-02T08:00:00+00:00", "2026-03-03T00:00:00+00:00", False),
        ("nora", "2026-03-03T00:00:00+00:00", "2026-03-06T00:00:00+00:00", True),
        ("alice", "2026-03-06T00:00:00+00:00", "2026-03-09T08:00:00+00:00", False),
    ]
    assert Override.history.count() == 2


def test_secondary_layer_offset_by_one_day(make_rotation, alice, bob):
    make_rotation(name="Primary", layer="primary", participants=[alice, bob], handoff_at="2026-03-02T09:00")
    make_rotation(name="Secondary", layer="secondary", participants=[bob, alice], handoff_at="2026-03-03T09:00")

    monday = {o.layer: o for o in who_is_on_call(utc(2026, 3, 9, 11))}
    tuesday = {o.layer: o for o in who_is_on_call(utc(2026, 3, 10, 11))}

    assert (monday["primary"].user.username, monday["secondary"].user.username) == ("bob", "bob")
    assert (tuesday["primary"].user.username, tuesday["secondary"].user.username) == ("bob", "alice")
    assert monday["secondary"].shift_start == utc(2026, 3, 3, 8)
    assert monday["secondary"].shift_end == utc(2026, 3, 10, 8)
    assert tuesday["primary"].shift_start == utc(2026, 3, 9, 8)
    assert tuesday["primary"].shift_end == utc(2026, 3, 16, 8)


def test_business_hours_restriction_leaves_nights_and_weekends_uncovered(make_rotation, alice, bob):
    rotation = make_rotation(
        participants=[alice, bob], shift_length="P1D", handoff_at="2026-03-27T09:00",
        restrictions=[{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
    )

    shifts = final_shifts(rotation, utc(2026, 3, 27), utc(2026, 4, 1))

    # Friday (CET), then nothing at the weekend (the clocks change on Sunday), then Monday and Tuesday (CEST).
    assert table(shifts) == [
        ("alice", "2026-03-27T08:00:00+00:00", "2026-03-27T16:00:00+00:00", False),
        ("bob", "2026-03-30T07:00:00+00:00", "2026-03-30T15:00:00+00:00", False),
        ("alice", "2026-03-31T07:00:00+00:00", "2026-03-31T15:00:00+00:00", False),
    ]


def test_overnight_restriction_runs_past_midnight(make_rotation, alice):
    rotation = make_rotation(participants=[alice], shift_length="P7D", handoff_at="2026-03-02T00:00",
                             timezone="UTC", restrictions=[{"days": [0], "start": "22:00", "end": "06:00"}])

    shifts = final_shifts(rotation, utc(2026, 3, 2), utc(2026, 3, 10))

    assert table(shifts) == [
        ("alice", "2026-03-02T22:00:00+00:00", "2026-03-03T06:00:00+00:00", False),
        ("alice", "2026-03-09T22:00:00+00:00", "2026-03-10T00:00:00+00:00", False),
    ]


def test_override_fills_a_restriction_gap(make_rotation, alice, bob):
    rotation = make_rotation(participants=[alice], shift_length="P1D", handoff_at="2026-03-02T09:00",
                             restrictions=[{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}])
    create_override(rotation=rotation, user=bob, start=utc(2026, 3, 2, 16), end=utc(2026, 3, 2, 20), by=alice)

    shifts = final_shifts(rotation, utc(2026, 3, 2), utc(2026, 3, 3))

    assert table(shifts) == [
        ("alice", "2026-03-02T08:00:00+00:00", "2026-03-02T16:00:00+00:00", False),
        ("bob", "2026-03-02T16:00:00+00:00", "2026-03-02T20:00:00+00:00", True),
    ]


def test_participant_change_mid_rotation_keeps_past_shifts(make_rotation, alice, bob, nora):
    rotation = make_rotation(participants=[alice, bob], handoff_at="2026-03-02T09:00")
    before = table(final_shifts(rotation, utc(2026, 3, 2, 8), utc(2026, 3, 12, 12)))

    set_participants(rotation=rotation, participants=[bob, nora], effective_from=utc(2026, 3, 12, 12), by=alice)
    after = final_shifts(rotation, utc(2026, 3, 2, 8), utc(2026, 3, 30, 7))

    assert table(after) == [
        ("alice", "2026-03-02T08:00:00+00:00", "2026-03-09T08:00:00+00:00", False),
        # Shift 1 belonged to bob; in the new order shift 1 is nora's, from the chosen moment.
        ("bob", "2026-03-09T08:00:00+00:00", "2026-03-12T12:00:00+00:00", False),
        ("nora", "2026-03-12T12:00:00+00:00", "2026-03-16T08:00:00+00:00", False),
        ("bob", "2026-03-16T08:00:00+00:00", "2026-03-23T08:00:00+00:00", False),
        ("nora", "2026-03-23T08:00:00+00:00", "2026-03-30T07:00:00+00:00", False),
    ]
    assert table(after)[:2] == before
    assert rotation.history.first().history_change_reason.startswith("participants from 2026-03-12")


def test_participant_change_at_a_handoff_with_the_same_person_is_one_shift(make_rotation, alice, bob, nora):
    rotation = make_rotation(participants=[alice, bob], handoff_at="2026-03-02T09:00")
    set_participants(rotation=rotation, participants=[nora, bob], effective_from=utc(2026, 3, 10), by=alice)

    shifts = final_shifts(rotation, utc(2026, 3, 9, 8), utc(2026, 3, 16, 8))

    assert table(shifts) == [("bob", "2026-03-09T08:00:00+00:00", "2026-03-16T08:00:00+00:00", False)]


def test_who_is_on_call_reports_an_override_with_its_full_extent(make_rotation, alice, bob):
    rotation = make_rotation(participants=[alice], handoff_at="2026-03-02T09:00")
    create_override(rotation=rotation, user=bob, start=utc(2026, 3, 1), end=utc(2026, 5, 1), by=alice)

    [entry] = who_is_on_call(utc(2026, 4, 1))

    assert (entry.user, entry.shift_start, entry.shift_end, entry.override) == (
        bob, utc(2026, 3, 1), utc(2026, 5, 1), True)
    assert entry.shift_end - entry.shift_start == timedelta(days=61)
