"""The instants Vigil accepts: in the years 1900 to 9000, UTC (as alert ingestion does).

Python's ``datetime`` ends at years 1 and 9999, PostgreSQL's timestamps do
not: a year-1 reading in a zone east of UTC is an instant in year 0, which
PostgreSQL stores and psycopg then cannot load, so every later read of the
row fails. Schedules also add shift lengths and windows (weeks, a year) to
the instants they are given. Every instant a person or a client gives is
therefore kept far from both ends of the calendar: forms, serializers,
schedule files and services check it here, each saying the range.
"""

from datetime import UTC, datetime, timedelta, tzinfo

from django.core.exceptions import ValidationError

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9001, 1, 1, tzinfo=UTC)  # excluded
RANGE = "between the years 1900 and 9000 (UTC)"
# The range as the OpenAPI schema can say it (of an ISO 8601 text): the year, 1900 to 9000.
# An offset can still carry a reading at either end a few hours outside; the check above has the last word.
PATTERN = r"^(?:19[0-9]{2}|[2-8][0-9]{3}|9000)-"


def in_range(value: datetime) -> bool:
    """Whether an aware ``value`` lies within the range (a naive one is read as UTC)."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    # Aware comparisons subtract offsets without building a datetime: no OverflowError at the edges.
    return EARLIEST <= value < LATEST


def range_message(shown: str) -> str:
    return f"{shown} is outside the dates Vigil accepts; give a date and time {RANGE}."


def shown(value: datetime) -> str:
    """A date-time as the person gave it: its wall-clock reading, to the minute."""
    return value.replace(tzinfo=None).isoformat(" ", "minutes")


def check_instant(value: datetime | None, field: str) -> None:
    """Raise ``ValidationError({field: ...})`` if ``value`` (aware; None passes) is out of range."""
    if value is not None and not in_range(value):
        raise ValidationError({field: range_message(shown(value))})


def place(reading: datetime, zone: tzinfo) -> datetime | None:
    """A naive wall-clock ``reading`` in ``zone`` as a UTC instant, or None if that is out of range.

    A reading in a spring-forward gap takes the offset before the change
    (fold=0), as schedules do.
    """
    try:
        instant = reading.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:  # before year 1 or after 9999 in UTC
        return None
    return instant if in_range(instant) else None


# Longer than this, a change of who is on call belongs in the rotation's participants. It also
# keeps who-is-on-call quick: an override spanning centuries made that page take seconds.
MAX_COVER = timedelta(days=366)


def check_cover_length(start: datetime | None, end: datetime | None, what: str, field: str = "end") -> None:
    """Raise ``ValidationError({field: ...})`` if an override or swap [start, end) is longer than MAX_COVER."""
    if start is not None and end is not None and end - start > MAX_COVER:
        raise ValidationError({field: f"{what} lasts at most {MAX_COVER.days} days; for longer, change the "
                                      "rotation's participants instead."})
