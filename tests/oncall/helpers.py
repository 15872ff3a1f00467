"""Small helpers shared by the on-call tests."""

from datetime import UTC, datetime


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def table(shifts):
    """Shifts as (username, start ISO, end ISO, override) rows, easy to compare exactly."""
    return [(s.user.username, s.start.isoformat(), s.end.isoformat(), s.override) for s in shifts]
