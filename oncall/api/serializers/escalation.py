"""Shapes of escalation policies over HTTP. No writes here; ``oncall.targets`` checks the steps' meaning.

Steps travel in the API's form (usernames, rotation ids, layer names, team
slugs); the service translates them to the stored form and refuses, naming
the step and the target, whatever does not exist.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import JSONTypes
from core.text import NON_BLANK_PATTERN, validate_one_line

from ...models import EscalationPolicy
from ...models.escalation import MAX_DELAY_MINUTES, MAX_REPEAT, MAX_STEPS, MAX_TARGETS
from ...targets import steps_to_api, target_names

# Not blank as str.strip() sees it (which also strips \x1c-\x1f, where ECMA's \S does not).
_NAME = {"type": "string", "pattern": NON_BLANK_PATTERN}


def _target(types: list[str], ident: dict, *, required: bool = True, description: str) -> dict:
    return {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": types}, "id": {**ident, "description": description}},
        "required": ["type", "id"] if required else ["type"],
        "additionalProperties": False,
    }


TARGET = {"oneOf": [
    _target(["user"], _NAME, description="The person's username."),
    _target(["rotation"], {"anyOf": [{"type": "integer", "minimum": 1}, _NAME]},
            description="The rotation's id (or the name of a rotation of the policy's team): whoever is on call "
                        "in it when the step is entered, overrides included."),
    _target(["layer"], _NAME, description="A layer of the policy's team, e.g. primary: everyone on call in it."),
    _target(["team_leads", "team_managers", "team"], {**_NAME, "nullable": True}, required=False,
            description="A team's slug (any team: escalate beyond your own); left out or null, the policy's "
                        "own team. team_leads and team_managers page its leads or managers, team every member."),
]}
STEPS = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_STEPS,
    "description": "In order. A step pages its targets when it is entered, then waits delay_minutes for an "
                   "acknowledgement before the next one.",
    "items": {
        "type": "object",
        "properties": {
            "delay_minutes": {"type": "integer", "minimum": 1, "maximum": MAX_DELAY_MINUTES},
            # Each target once (two spellings of one target, such as a team left out and named, are
            # refused too, naming the step: no schema can see that they are one).
            "targets": {"type": "array", "minItems": 1, "maxItems": MAX_TARGETS, "uniqueItems": True,
                        "items": TARGET},
        },
        "required": ["delay_minutes", "targets"],
        "additionalProperties": False,
    },
    "example": [
        {"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads", "id": "payments"}]},
        {"delay_minutes": 30, "targets": [{"type": "user", "id": "erik"}]},
    ],
}


@extend_schema_field(STEPS)
class StepsField(serializers.JSONField):
    """Steps in the API's form, documented by their shape; ``oncall.targets.steps_from_api`` checks them."""


class EscalationPolicySerializer(serializers.ModelSerializer):
    """A policy as every endpoint returns it. A list passes ``context["names"]`` (``target_names``) so that
    translating every policy's steps costs three queries, not three per policy."""

    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="The owning team's slug.")
    steps = serializers.SerializerMethodField()

    class Meta:
        model = EscalationPolicy
        fields = ["id", "team", "name", "description", "repeat", "is_default", "steps"]
        read_only_fields = fields

    @extend_schema_field(STEPS)
    def get_steps(self, policy) -> list:
        return steps_to_api(policy.steps, self.context.get("names") or target_names([policy.steps]))


class EscalationPolicyUpdateSerializer(JSONTypes, serializers.Serializer):
    """What changes on an escalation policy (its team stays)."""

    name = serializers.CharField(max_length=120, validators=[validate_one_line])
    description = serializers.CharField(required=False, allow_blank=True, default="")
    repeat = serializers.IntegerField(
        min_value=0, max_value=MAX_REPEAT, default=0,
        help_text="How many more times the whole list runs after its last step.",
    )
    is_default = serializers.BooleanField(
        default=False, help_text="Used for the team's incidents whose services name no policy; one per team "
                                 "(making this one the default un-defaults the previous one).",
    )
    steps = StepsField()


class EscalationPolicyInputSerializer(EscalationPolicyUpdateSerializer):
    """A new escalation policy of a team you lead or manage."""

    team = serializers.SlugField(help_text="The team's slug; you must lead or manage it.")

    def validate_team(self, slug):
        team = self.context["teams"].filter(slug=slug).first()
        if team is None:
            raise serializers.ValidationError(f"Unknown team {slug!r}; give the slug of one of your teams.")
        return team
