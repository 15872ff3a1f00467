"""Timestamps read from PostgreSQL through the C loader (config.postgres) are the instants written, in UTC."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from oncall.models import Override
from oncall.services import create_override, create_rotation

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BERLIN = ZoneInfo("Europe/Berlin")


def test_the_connection_parses_timestamps_with_psycopgs_c_loader(on_postgres):
    from psycopg import adapters

    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(adapters.types["timestamptz"].oid, 0)
    c_loader = adapters.get_loader(adapters.types["timestamptz"].oid, 0)
    if c_loader.__module__.startswith("psycopg.types"):
        pytest.skip("psycopg's C extension is not installed: Django's own loader stays")
    assert loader.__name__ == "FastTzLoader"  # not Django's pure-Python SpecificTzLoader
    assert loader.timezone is connection.timezone  # Django's create_cursor reads it
    with connection.cursor() as cursor:
        cursor.execute("SELECT '2026-03-29 01:59:59.999999+00'::timestamptz, '1900-01-01 00:00:00+00'::timestamptz")
        last_winter_moment, old = cursor.fetchone()
    assert last_winter_moment == datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=UTC)
    assert last_winter_moment.tzinfo is UTC and old == datetime(1900, 1, 1, tzinfo=UTC)


def test_instants_written_in_any_zone_read_back_equal_and_in_utc(on_postgres, payments, alice, bob):
    rotation = create_rotation(team=payments, name="Primary", participants=[alice, bob], shift_length="P7D",
                               handoff_at=datetime(2026, 3, 23, 9), timezone="Europe/Berlin")
    # Across the spring change in Berlin, with microseconds.
    start = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=BERLIN)
    end = start + timedelta(hours=5)
    create_override(rotation=rotation, user=bob, start=start, end=end)

    stored = Override.objects.get(rotation=rotation)
    assert (stored.start_at, stored.end_at) == (start, end)
    assert stored.start_at.tzinfo is UTC
    assert stored.start_at == datetime(2026, 3, 29, 0, 30, 0, 123456, tzinfo=UTC)
