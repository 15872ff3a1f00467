"""who_is_on_call agrees with the per-rotation computation, also for long shifts and long overrides."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncall.models import Rotation
from oncall.schedule import shift_at, who_is_on_call
from oncall.services import create_override
from tests.oncall.helpers import utc

pytestmark = pytest.mark.django_db

AT = utc(2026, 3, 11, 12)


def _truth(rotation, at):
    # shift_at on a fresh row reads every override it needs with its own queries.
    return shift_at(Rotation.objects.get(pk=rotation.pk), at)


def _row(rows, rotation):
    return next(r for r in rows if r.rotation.pk == rotation.pk)


def test_a_long_override_reports_its_whole_extent_up_to_a_later_nested_one(make_rotation, alice, bob, nora):
    rotation = make_rotation(participants=[alice, bob], handoff_at="2026-03-02T09:00")
    create_override(rotation=rotation, user=nora, start=AT - timedelta(days=20), end=AT + timedelta(days=40), by=None)
    create_override(rotation=rotation, user=alice, start=AT + timedelta(days=25), end=AT + timedelta(days=26), by=None)

    row = _row(who_is_on_call(AT), rotation)

    truth = _truth(rotation, AT)
    assert (row.user, row.shift_start, row.shift_end, row.override) == (nora, truth.start, truth.end, True)
    assert row.shift_start == AT - timedelta(days=20)
    assert row.shift_end == AT + timedelta(days=25)


def test_a_four_week_rotation_sees_an_override_three_weeks_ahead(make_rotation, alice, bob, nora):
    rotation = make_rotation(participants=[alice, bob], shift_length="P28D", handoff_at="2026-03-02T09:00")
    create_override(rotation=rotation, user=nora, start=AT + timedelta(days=15), end=AT + timedelta(days=16), by=None)

    row = _row(who_is_on_call(AT), rotation)

    truth = _truth(rotation, AT)
    assert (row.user, row.shift_start, row.shift_end) == (truth.user, truth.start, truth.end)
    assert row.shift_end == AT + timedelta(days=15)


def test_weekly_and_daily_rotations_need_no_extra_query(make_rotation, alice, bob, nora):
    weekly = make_rotation(participants=[alice, bob], handoff_at="2026-03-02T09:00")
    daily = make_rotation(layer="secondary", participants=[bob, nora], shift_length="P1D", handoff_at="2026-03-03T09:00")
    create_override(rotation=weekly, user=nora, start=AT - timedelta(hours=2), end=AT + timedelta(hours=3), by=None)

    with CaptureQueriesContext(connection) as queries:
        rows = who_is_on_call(AT)

    assert len(queries) <= 6
    for rotation in (weekly, daily):
        row, truth = _row(rows, rotation), _truth(rotation, AT)
        assert (row.user, row.shift_start, row.shift_end) == (truth.user, truth.start, truth.end)
