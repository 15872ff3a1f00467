"""Shapes of rotations, shifts, overrides and who-is-on-call over HTTP. No writes here."""

import zoneinfo
from datetime import datetime

from django.utils import timezone as djtz
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import JSONTypes
from core.instants import in_range, range_message
from core.text import validate_one_line

from ...models import Override, Rotation, User
from ...models.people import validate_timezone
from ...models.schedule import parse_shift_length, validate_restrictions
from ...queries import participants_at

# What the schema can say of a shift length, a local hand-off and restrictions; the parsers
# say the rest (a shift lasts an hour to a year; the date must exist).
SHIFT_LENGTH = r"^P(?:[0-9]+W(?:[0-9]+D)?(?:T[0-9]+H)?|[0-9]+D(?:T[0-9]+H)?|T[0-9]+H)$"
LOCAL_DATE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?$"
HH_MM = {"type": "string", "pattern": "^(?:[01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"}
RESTRICTIONS = {
    "type": "array",
    "description": "Weekly local windows the rotation covers, e.g. [{\"days\": [0,1,2,3,4], \"start\": \"09:00\", "
                   "\"end\": \"17:00\"}] (Monday = 0); an end not after its start runs past midnight. Empty: always.",
    "items": {
        "type": "object",
        "properties": {
            "days": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0, "maximum": 6}},
            "start": HH_MM,
            "end": HH_MM,
        },
        "required": ["days", "start", "end"],
        "additionalProperties": False,
    },
}


@extend_schema_field(RESTRICTIONS)
class RestrictionsField(serializers.JSONField):
    """Restrictions, documented by their shape (``oncall.models.schedule.validate_restrictions`` checks it)."""


@extend_schema_field({"type": "string", "pattern": SHIFT_LENGTH, "example": "P7D"})
class ShiftLengthField(serializers.CharField):
    """A shift length, documented by its canonical form (``parse_shift_length`` checks it)."""


@extend_schema_field({"type": "string", "pattern": LOCAL_DATE_TIME, "example": "2026-03-02T09:00"})
class LocalDateTimeField(serializers.CharField):
    """A wall-clock date-time, documented by its canonical form (``_parse_local`` reads it, a little more leniently)."""


class UsernameListField(serializers.ListField):
    """Usernames, each once: ``validate_participants`` refuses a repeat, and the schema says ``uniqueItems``."""

    unique_items = True


class RotationSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    participants = serializers.SerializerMethodField(help_text="Usernames in order, as in force now.")
    shift_length = serializers.CharField(help_text="ISO 8601 duration: whole hours, days or weeks (P7D, PT12H).")
    handoff_at = serializers.SerializerMethodField(help_text="Local date-time of the first hand-off.")
    restrictions = RestrictionsField(read_only=True)

    class Meta:
        model = Rotation
        fields = ["id", "team", "name", "layer", "participants", "shift_length", "handoff_at", "timezone",
                  "ends_at", "restrictions", "created_at"]

    def get_participants(self, rotation) -> list[str]:
        return [u.username for u in participants_at(rotation, self.context.get("now") or djtz.now())]

    def get_handoff_at(self, rotation) -> str:
        return rotation.first_handoff.isoformat()


def _parse_local(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise serializers.ValidationError(
            f"{value!r} is not a date-time; give the local date and time of the first hand-off, "
            "such as '2026-03-02T09:00'."
        ) from exc
    if parsed.tzinfo is not None:
        raise serializers.ValidationError(
            "Give the first hand-off as local wall-clock time without an offset (e.g. '2026-03-02T09:00'); "
            "the rotation's timezone places it, so it stays 09:00 across daylight-saving changes."
        )
    return parsed


class RotationInputSerializer(JSONTypes, serializers.Serializer):
    team = serializers.SlugField(help_text="The team's slug.")
    name = serializers.CharField(max_length=120, validators=[validate_one_line])
    layer = serializers.SlugField(max_length=60, default=Rotation.PRIMARY,
                                  help_text="primary, secondary or any named layer.")
    participants = UsernameListField(child=serializers.CharField(), allow_empty=False,
                                     help_text="Usernames in hand-off order, each once.")
    shift_length = ShiftLengthField(
        help_text="ISO 8601 duration of whole hours, days or weeks, from an hour to a year: 'P7D', 'P1W', 'PT12H'.",
    )
    handoff_at = LocalDateTimeField(
        help_text="Local date-time of the first hand-off, without an offset, e.g. '2026-03-02T09:00'.",
    )
    timezone = serializers.CharField(help_text="IANA zone, e.g. 'Europe/Berlin'.", validators=[validate_timezone])
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    restrictions = RestrictionsField(required=False, default=list)

    def validate_team(self, slug):
        team = self.context["teams"].filter(slug=slug).first()
        if team is None:
            raise serializers.ValidationError(f"Unknown team {slug!r}; give the slug of one of your teams.")
        return team

    def validate_participants(self, usernames):
        found = {u.username: u for u in User.objects.filter(username__in=usernames, is_active=True)}
        unknown = [name for name in usernames if name not in found]
        if unknown:
            raise serializers.ValidationError(f"Unknown users: {', '.join(unknown)}; give usernames.")
        if len(set(usernames)) != len(usernames):
            raise serializers.ValidationError("Each person may appear once; list them in hand-off order.")
        return [found[name] for name in usernames]

    def validate_shift_length(self, value):
        try:
            parse_shift_length(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_handoff_at(self, value):
        return _parse_local(value)

    def validate_restrictions(self, value):
        try:
            validate_restrictions(value)
        except Exception as exc:  # django ValidationError → DRF field error
            raise serializers.ValidationError(list(getattr(exc, "messages", [str(exc)]))) from exc
        return value or []

    def validate(self, attrs):
        ends_at, first = attrs.get("ends_at"), attrs.get("handoff_at")
        if ends_at and first:
            first_instant = first.replace(tzinfo=zoneinfo.ZoneInfo(attrs["timezone"]))
            if ends_at <= first_instant:
                raise serializers.ValidationError({"ends_at": "The rotation must end after its first hand-off."})
        for user in attrs.get("participants", []):
            if not attrs["team"].memberships.filter(user=user).exists():
                raise serializers.ValidationError(
                    {"participants": f"{user.username} is not a member of team {attrs['team'].slug}; add them first."}
                )
        return attrs


def _within_range(value: datetime) -> datetime:
    # Shifts are computed weeks and months around the instants asked for: far from the calendar's ends.
    if not in_range(value):
        raise serializers.ValidationError(range_message(value.isoformat()))
    return value


class ShiftSerializer(serializers.Serializer):
    user = serializers.CharField(source="user.username")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    override = serializers.BooleanField()


class ShiftWindowSerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)

    def validate_start(self, value):
        return _within_range(value)

    def validate_end(self, value):
        return _within_range(value)

    def validate(self, attrs):
        if "start" in attrs and "end" in attrs and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "end must be after start."})
        return attrs


class OverrideSerializer(serializers.ModelSerializer):
    rotation = serializers.IntegerField(source="rotation_id")
    user = serializers.CharField(source="user.username")
    start = serializers.DateTimeField(source="start_at")
    end = serializers.DateTimeField(source="end_at")
    team = serializers.CharField(source="rotation.team.slug", read_only=True)

    class Meta:
        model = Override
        fields = ["id", "rotation", "team", "user", "start", "end", "reason", "created_at"]


class OverrideInputSerializer(JSONTypes, serializers.Serializer):
    rotation = serializers.IntegerField(help_text="The rotation's id.")
    user = serializers.CharField(help_text="Username of the person taking the time.")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

    def validate_rotation(self, value):
        rotation = self.context["rotations"].filter(pk=value).select_related("team").first()
        if rotation is None:
            raise serializers.ValidationError(f"Unknown rotation {value}; give the id of a rotation of your teams.")
        return rotation

    def validate_user(self, value):
        user = User.objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"Unknown user {value!r}; give a username.")
        return user

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "The override must end after it starts."})
        if not attrs["rotation"].team.memberships.filter(user=attrs["user"]).exists():
            raise serializers.ValidationError(
                {"user": f"{attrs['user'].username} is not a member of team {attrs['rotation'].team.slug}."}
            )
        return attrs


class OnCallSerializer(serializers.Serializer):
    team = serializers.CharField(source="team.slug")
    rotation = serializers.IntegerField(source="rotation.id")
    rotation_name = serializers.CharField(source="rotation.name")
    layer = serializers.CharField()
    user = serializers.CharField(source="user.username")
    shift_start = serializers.DateTimeField()
    shift_end = serializers.DateTimeField()
    override = serializers.BooleanField()
