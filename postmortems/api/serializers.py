"""Shapes of postmortems and action items over HTTP. No writes here.

References follow API.md: incidents by number, people by username, postmortems, timeline events and
action items by id, factor tags by name. A reference is looked up among what the caller may see, so an
unknown one and another team's get the same 400.
"""

from datetime import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import JSONTypes
from core.ids import MAX_ID
from core.text import validate_one_line
from incidents.api.serializers import SlugRefField, UsernameField
from incidents.models import Incident

from ..invitations import ends_at
from ..models import (
    ActionItem,
    ActionItemStatus,
    Postmortem,
    PostmortemEvent,
    Priority,
    ReviewMeeting,
)
from ..models.postmortem import TRANSITIONS
from ..queries import is_overdue, meeting_of, postmortem_of
from ..services import allowed_statuses, allowed_transitions
from ..services.meeting import MAX_MINUTES, MIN_MINUTES

DURATIONS = {
    "type": "object",
    "description": "Seconds, null when unknown: detect = declared − impact start; acknowledge, mitigate and resolve "
                   "from the declaration; impact from its start (or the declaration) to resolution.",
    "properties": {name: {"type": "integer", "nullable": True, "minimum": 0}
                   for name in ("detect", "acknowledge", "mitigate", "resolve", "impact")},
}


# Not nullable, whatever the model's column says (a number is null only inside its creating transaction).
@extend_schema_field({"type": "string", "minLength": 1})
class IncidentNumberField(SlugRefField):
    """An incident by number, among those the caller may see."""

    default_error_messages = {
        "does_not_exist": "Unknown incident {value!r}; give the number of an incident of your teams, "
                          "e.g. INC-2026-0042.",
        "invalid": "Give the incident's number as a string, e.g. INC-2026-0042.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Incident.objects.none())
        super().__init__(slug_field="number", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return Incident.objects.visible_to(request.user) if request is not None else Incident.objects.none()

    def to_internal_value(self, data):
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


class OwnerField(UsernameField):
    """A person by username, or null for nobody (an empty string is neither: DRF would read it as null)."""

    default_error_messages = {"blank": "Give a username, or null for nobody."}

    def run_validation(self, data=serializers.empty):
        if data == "":  # RelatedField.run_validation would read it as None
            self.fail("blank")
        return super().run_validation(data)


class FactorSerializer(JSONTypes, serializers.Serializer):
    """One contributing factor: a tag of the team's vocabulary (by name) and what it was."""

    id = serializers.IntegerField(read_only=True)
    tag = serializers.CharField(max_length=60, help_text="A tag's name: one every team shares or the team's own.")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PostmortemEvent
        fields = ["id", "at", "kind", "actor", "summary", "key"]
        read_only_fields = fields


class ReviewSerializer(serializers.Serializer):
    user = serializers.CharField(source="reviewer.username")
    requested_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    approved = serializers.SerializerMethodField(help_text="Approved in the current review round.")

    def get_approved(self, review) -> bool:
        return review.approved_at is not None and review.approved_round == review.postmortem.review_round


class PostmortemSerializer(serializers.ModelSerializer):
    """A postmortem as every endpoint returns it (``postmortems_in_full``'s prefetches); one postmortem's
    answer adds its ``timeline``."""

    incident = serializers.SlugRelatedField(slug_field="number", read_only=True)
    title = serializers.CharField(source="incident.title", read_only=True)
    severity = serializers.CharField(source="incident.severity.name", read_only=True)
    team = serializers.CharField(source="incident.team.slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField(help_text="Not published and past its due time.")
    durations = serializers.SerializerMethodField()
    contributing_factors = serializers.SerializerMethodField()
    reviewers = ReviewSerializer(source="reviews", many=True, read_only=True)
    action_items_open = serializers.IntegerField(source="items_open", read_only=True)
    action_items_total = serializers.IntegerField(source="items_total", read_only=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text="Transitions you may fire now: POST /api/v1/postmortems/{id}/{transition}/.")

    class Meta:
        model = Postmortem
        fields = [
            "id", "incident", "title", "severity", "team", "status", "required", "due_at", "overdue", "owner",
            "summary", "impact", "users_affected", "revenue_impact", "budget_consumed", "root_cause", "detection",
            "detection_sooner", "response", "went_well", "to_improve", "lessons", "contributing_factors",
            "durations", "facts", "reviewers", "review_round", "version", "action_items_open", "action_items_total",
            "allowed_transitions", "created_at", "updated_at", "submitted_at", "published_at",
        ]
        read_only_fields = fields

    def get_overdue(self, postmortem) -> bool:
        return is_overdue(postmortem, self.context.get("now") or timezone.now())

    @extend_schema_field(DURATIONS)
    def get_durations(self, postmortem) -> dict:
        return postmortem.facts.get("durations", {})

    @extend_schema_field(FactorSerializer(many=True))
    def get_contributing_factors(self, postmortem) -> list:
        return [{"id": f.pk, "tag": f.tag.name, "description": f.description} for f in postmortem.factors.all()]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITIONS)))
    def get_allowed_transitions(self, postmortem) -> list[str]:
        request = self.context.get("request")
        return allowed_transitions(postmortem, request.user if request else None)


class MeetingSerializer(serializers.ModelSerializer):
    """The review meeting; ``uid`` and ``sequence`` are its calendar event's UID and SEQUENCE."""

    ends_at = serializers.SerializerMethodField()
    organizer = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    attendees = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    cancelled = serializers.SerializerMethodField()

    class Meta:
        model = ReviewMeeting
        fields = ["uid", "starts_at", "ends_at", "duration_minutes", "location", "organizer", "attendees",
                  "sequence", "cancelled", "cancelled_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_ends_at(self, meeting) -> datetime:
        return serializers.DateTimeField().to_representation(ends_at(meeting))

    def get_cancelled(self, meeting) -> bool:
        return meeting.cancelled_at is not None


class PostmortemDetailSerializer(PostmortemSerializer):
    timeline = EventSerializer(source="events", many=True, read_only=True,
                               help_text="The incident's events copied into it, and any written in; key ones "
                                         "tell the story (PATCH key_events).")
    meeting = serializers.SerializerMethodField(
        help_text="The review meeting (null: none yet); POST or DELETE /api/v1/postmortems/{id}/meeting/.")

    class Meta(PostmortemSerializer.Meta):
        fields = [*PostmortemSerializer.Meta.fields, "timeline", "meeting"]
        read_only_fields = fields

    @extend_schema_field(MeetingSerializer(allow_null=True))
    def get_meeting(self, postmortem) -> dict | None:
        meeting = meeting_of(postmortem)
        return MeetingSerializer(meeting).data if meeting is not None else None


class MeetingScheduleSerializer(JSONTypes, serializers.Serializer):
    """Schedule the review meeting, or move or change it: a field left out keeps the scheduled meeting's value."""

    starts_at = serializers.DateTimeField(required=False, help_text="When it starts: in the future, with an offset.")
    duration_minutes = serializers.IntegerField(required=False, min_value=MIN_MINUTES, max_value=MAX_MINUTES,
                                                help_text="How long (default 60).")
    location = serializers.CharField(required=False, allow_blank=True, max_length=300,
                                     validators=[validate_one_line], help_text="A room, or a video-call link.")
    attendees = serializers.ListField(
        child=UsernameField(), required=False, allow_empty=False, max_length=200,
        help_text="Usernames of people who may see the incident (its team, its responders, staff); each is "
                  "e-mailed the calendar invitation.")


class PostmortemFieldsSerializer(JSONTypes, serializers.Serializer):
    """The document's fields a person writes (Markdown text, numbers, the owner and the due date)."""

    owner = OwnerField(required=False, allow_null=True,
                       help_text="Its author (username): a member of the incident's team or a responder.")
    due_at = serializers.DateTimeField(required=False, help_text="When it should be published.")
    summary = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    impact = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    users_affected = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    revenue_impact = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True,
                                              min_value=0)
    budget_consumed = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                            validators=[validate_one_line],
                                            help_text="SLA or error budget consumed, e.g. 38% of the monthly budget.")
    root_cause = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    detection = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    detection_sooner = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    response = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    went_well = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    to_improve = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    lessons = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class PostmortemCreateSerializer(PostmortemFieldsSerializer):
    """Start a postmortem of a resolved incident (any severity; a SEV1 or SEV2 has one already)."""

    incident = IncidentNumberField(help_text="The incident's number; it must be resolved or closed.")


class PostmortemUpdateSerializer(PostmortemFieldsSerializer):
    """An edit, made from the ``version`` read: refused with 409 ``stale_version`` if someone saved since.

    Every field but ``version`` is optional, so it validates as a whole (not partial): the version is required.
    """

    required_in_patch = ("version",)  # config.schema: the PATCH's schema says so

    version = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The version you read (GET it): optimistic locking.",
        error_messages={"required": "Give the version you read (GET the postmortem): an edit from an older "
                                    "version is refused rather than overwrite someone's save."})
    key_events = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=10000,
        help_text="The ids of every key event of its timeline (the others are not key).")
    contributing_factors = FactorSerializer(many=True, required=False,
                                            help_text="Replaces them all, in this order.")


class PostmortemTransitionSerializer(JSONTypes, serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                 help_text="Why, in a line; shown on the incident's timeline.")


# --- Action items --------------------------------------------------------------------

class ActionItemSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="number", read_only=True)
    postmortem = serializers.SerializerMethodField(help_text="The id of its incident's postmortem; null if none yet.")
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField(help_text="Open or in progress, and past its due time.")
    allowed_statuses = serializers.SerializerMethodField(help_text="The statuses a PATCH may move it to now.")
    tracker = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                 help_text="The issue tracker it was sent to (POST …/send/).")
    external_key = serializers.CharField(read_only=True, help_text="Its issue there: a number, or a Jira key.")
    external_url = serializers.CharField(read_only=True, help_text="Its issue's address; empty until sent.")

    class Meta:
        model = ActionItem
        fields = ["id", "postmortem", "incident", "title", "owner", "due_at", "priority", "success_criteria",
                  "status", "wont_do_reason", "overdue", "allowed_statuses", "closed_at", "created_by",
                  "created_at", "updated_at", "tracker", "external_key", "external_url"]
        read_only_fields = fields

    def get_postmortem(self, item) -> int | None:
        postmortem = postmortem_of(item.incident)
        return postmortem.pk if postmortem is not None else None

    def get_overdue(self, item) -> bool:
        return item.is_overdue(self.context.get("now") or timezone.now())

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ActionItemStatus.choices)))
    def get_allowed_statuses(self, item) -> list[str]:
        return allowed_statuses(item)


class ActionItemFieldsSerializer(JSONTypes, serializers.Serializer):
    title = serializers.CharField(max_length=200, validators=[validate_one_line])
    owner = OwnerField(required=False, allow_null=True,
                       help_text="Username of a member of the incident's team or a responder.")
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, help_text="P0 (now) .. P3.")
    success_criteria = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class ActionItemCreateSerializer(ActionItemFieldsSerializer):
    """A new action item (it starts open): of a postmortem, or straight of an incident."""

    postmortem = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                          help_text="The postmortem's id (its incident's item).")
    incident = IncidentNumberField(required=False, help_text="Or the incident's number, e.g. during the response.")
    request_schema_extra = {"anyOf": [{"required": ["postmortem"]}, {"required": ["incident"]}]}

    def validate(self, data):
        if "postmortem" not in data and "incident" not in data:
            raise serializers.ValidationError({"postmortem": ["Give the postmortem's id, or the incident's number."]})
        return data


class ActionItemUpdateSerializer(ActionItemFieldsSerializer):
    title = serializers.CharField(max_length=200, validators=[validate_one_line], required=False)
    status = serializers.ChoiceField(choices=ActionItemStatus.choices, required=False,
                                     help_text="open, in_progress, done or wont_do (with wont_do_reason); "
                                               "409 with the allowed ones when it cannot move there.")
    wont_do_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                           help_text="Why it won't be done: required to set wont_do.")


class ActionItemSendSerializer(JSONTypes, serializers.Serializer):
    """Send an action item to an issue tracker of its incident's team (once)."""

    tracker = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                       help_text="The tracker's id (its team's page lists them).")
