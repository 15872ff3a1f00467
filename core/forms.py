"""Form fields shared by every app's browser forms."""

from datetime import UTC, date, datetime, timedelta, tzinfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.instants import in_range, range_message, shown

# PostgreSQL refuses a UTC offset beyond ±15:59 ("time zone displacement out of range");
# Python allows up to ±23:59. An instant given with such an offset is passed on in UTC.
MAX_DATABASE_OFFSET = timedelta(hours=15, minutes=59)

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed in a browser, as an aware datetime within the range Vigil accepts.

    A reading without a UTC offset (what ``datetime-local`` sends) is placed
    in ``zone`` when the form sets one (a team's zone; a reading in a
    spring-forward gap takes the offset before the change, as schedules do),
    else in the current time zone (the reader's on incident pages), where
    Django refuses a reading that does not exist or is ambiguous. An instant
    outside ``core.instants`` is refused with the range: stored, it could
    not be read back.
    """

    zone: tzinfo | None = None

    def to_python(self, value):
        if self.zone is None:
            result = super().to_python(value)
        else:
            result = self._reading(value)
            if result is not None and timezone.is_naive(result):
                result = result.replace(tzinfo=self.zone)
        if result is not None and not in_range(result):
            raise ValidationError(range_message(shown(result)), code="out_of_range")
        if result is not None and abs(result.utcoffset()) > MAX_DATABASE_OFFSET:
            result = result.astimezone(UTC)  # the same instant, in an offset PostgreSQL accepts
        return result

    def prepare_value(self, value):
        if self.zone is not None and isinstance(value, datetime) and timezone.is_aware(value):
            return value.astimezone(self.zone)
        return super().prepare_value(value)

    def _reading(self, value) -> datetime | None:
        """What was typed, naive unless it carried a UTC offset (DateTimeField's parsing, without a zone)."""
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=self.zone)
        try:
            result = parse_datetime(value.strip())
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return result or forms.fields.BaseTemporalField.to_python(self, value)


def local_moment(**options) -> LocalDateTimeField:
    """A local date and time as browsers send it (``datetime-local``), or typed with a space."""
    return LocalDateTimeField(widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS, **options)


class InstantField(forms.DateTimeField):
    """An ISO 8601 date or instant from a query parameter or form, checked as bodies are: in UTC, in range.

    A date alone means its midnight UTC; a reading without an offset is UTC
    (query parameters have no reader's zone). Any offset Python parses is
    accepted, and the instant leaves in UTC, so the database never sees it.
    """

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, str):
            value = value.strip()
            try:
                result = parse_datetime(value)
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            if result is None:
                result = super().to_python(value)  # a date alone, or another accepted format
        else:
            result = super().to_python(value)
        if timezone.is_naive(result):
            result = result.replace(tzinfo=UTC)
        if not in_range(result):
            raise ValidationError(range_message(shown(result)), code="out_of_range")
        return result.astimezone(UTC)
