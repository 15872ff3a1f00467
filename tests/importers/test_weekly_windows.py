"""Weekly masks become Vigil's restriction windows: what a layer covers, less what the layers above it cover."""

import pytest

from importers.weekly import DAY, FULL, span, to_restrictions


def test_always_is_no_restriction():
    assert to_restrictions(FULL) == []


def test_weekday_office_hours_group_their_days():
    mask = 0
    for day in range(5):
        mask |= span(day * DAY + 9 * 60, 8 * 60)
    assert to_restrictions(mask) == [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}]


def test_a_window_past_midnight_is_split_at_midnight():
    mask = span(4 * DAY + 22 * 60, 4 * 60)  # Friday 22:00 for four hours
    assert to_restrictions(mask) == [{"days": [4], "start": "22:00", "end": "00:00"},
                                     {"days": [5], "start": "00:00", "end": "02:00"}]


def test_a_span_wraps_past_sunday_midnight():
    mask = span(6 * DAY + 23 * 60, 2 * 60)  # Sunday 23:00 to Monday 01:00
    assert to_restrictions(mask) == [{"days": [0], "start": "00:00", "end": "01:00"},
                                     {"days": [6], "start": "23:00", "end": "00:00"}]


def test_a_lower_layer_keeps_what_the_weekend_layer_above_leaves():
    weekend = span(5 * DAY, 2 * DAY)
    assert to_restrictions(FULL & ~weekend) == [{"days": [0, 1, 2, 3, 4], "start": "00:00", "end": "00:00"}]


def test_never_is_refused():
    with pytest.raises(ValueError):
        to_restrictions(0)
