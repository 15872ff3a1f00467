"""Form fields shared by every app's browser forms."""

from datetime import date, datetime, tzinfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.instants import in_range, range_message, shown

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
