"""Serializers for the incident core API: shapes in and out, no writes.

References follow API.md: people by username, teams and services by slug,
severities by name, incidents by number. Reference fields look things up only
among what the caller may see, so an unknown slug and another team's slug get
the same 400 and nothing leaks.
"""

from collections.abc import Mapping

from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import JSONTypes
from core.text import validate_one_line
from oncall.models import EscalationPolicy, Team, User

from ..drafts import draft_kinds
from ..models import (
    Category,
    Incident,
    Note,
    RoleAssignment,
    Service,
    Severity,
    SeverityPolicy,
    StatusUpdate,
)
from ..models.incident import TRANSITIONS
from ..queries import commander_of
from ..services import allowed_transitions


def _caller(field: serializers.Field):
    request = field.context.get("request")
    return getattr(request, "user", None)


class SlugRefField(serializers.SlugRelatedField):
    """A reference by a string key; anything else is refused with the field's ``invalid`` message."""

    checks_own_type = True  # config.api.JSONTypes leaves the message to this field

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data.strip())


class SeverityField(SlugRefField):
    """A severity by name; ``sev1`` is read as ``SEV1``."""

    default_error_messages = {
        "does_not_exist": "Unknown severity {value!r}; use SEV1 (most severe), SEV2, SEV3 or SEV4.",
        "invalid": "Give the severity's name as a string: SEV1, SEV2, SEV3 or SEV4.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Severity.objects.all())
        super().__init__(slug_field="name", **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


class VisibleTeamField(SlugRefField):
    """A team by slug, among the teams the caller belongs to (staff: all)."""

    default_error_messages = {
        "does_not_exist": "Unknown team {value!r}; use the slug of one of your teams (GET /api/v1/teams/).",
        "invalid": "Give the team's slug as a string.",
    }

    def __init__(self, **kwargs):
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Team.objects.none())
        super().__init__(slug_field="slug", **kwargs)

    def get_queryset(self):
        user = _caller(self)
        return Team.objects.visible_to(user) if user is not None else Team.objects.none()


class VisibleServiceField(SlugRefField):
    """A service by slug, among the services of the caller's teams (staff: all)."""

    default_error_messages = {
        "does_not_exist": "Unknown service {value!r}; use the slug of a service of one of your teams "
                          "(GET /api/v1/services/).",
        "invalid": "Give each service as its slug, a string.",
    }

    def __init__(self, **kwargs):
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Service.objects.none())
        super().__init__(slug_field="slug", **kwargs)

    def get_queryset(self):
        user = _caller(self)
        return Service.objects.visible_to(user) if user is not None else Service.objects.none()


class UsernameField(SlugRefField):
    """A person by username; the view narrows the candidates through ``context["users"]``."""

    default_error_messages = {
        "does_not_exist": "Unknown user {value!r}; give the username of a member of your teams.",
        "invalid": "Give the person's username as a string.",
    }

    def __init__(self, **kwargs):
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", User.objects.none())
        super().__init__(slug_field="username", **kwargs)

    def get_queryset(self):
        return self.context.get("users", User.objects.none())


# --- Incidents -----------------------------------------------------------------

class RoleSerializer(JSONTypes, serializers.ModelSerializer):
    """A role held on an incident: ``{role, user}``; ``user`` is a username."""

    user = UsernameField()
    assigned_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "role", "user", "assigned_by", "assigned_at"]
        read_only_fields = ["id", "assigned_at"]


class HeldRoleSerializer(serializers.ModelSerializer):
    """A role as listed inside an incident (``incidents_for`` prefetches exactly these)."""

    # A plain string here: the enum is documented once, on Role (one component per enum keeps
    # drf-spectacular from hashing the names of the two "role" enums, this and Membership's).
    role = serializers.CharField(read_only=True, help_text="commander, tech_lead, comms_lead, scribe or sme.")
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "role", "user"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    """An incident as every endpoint returns it. Needs ``incidents_for()``'s prefetches."""

    severity = serializers.SlugRelatedField(slug_field="name", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    declared_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True,
        help_text="Username of who declared it; null when an alert or a heartbeat did.",
    )
    commander = serializers.SerializerMethodField(help_text="Username of the incident commander; null if none.")
    roles = HeldRoleSerializer(source="role_assignments", many=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text="Transitions legal now: POST /api/v1/incidents/{number}/{transition}/."
    )

    class Meta:
        model = Incident
        fields = [
            "number", "title", "status", "severity", "category", "team", "services", "commander",
            "description", "impact", "root_cause", "resolution_summary", "users_affected", "revenue_impact",
            "customer_facing",
            "declared_by", "source", "roles",
            "created_at", "started_at", "acknowledged_at", "investigating_at", "identified_at",
            "mitigated_at", "resolved_at", "closed_at", "updated_at",
            "alert_count", "last_alert_at", "allowed_transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_commander(self, incident) -> str | None:
        user = commander_of(incident)
        return user.username if user else None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITIONS)))
    def get_allowed_transitions(self, incident) -> list[str]:
        return allowed_transitions(incident)


class IncidentCreateSerializer(JSONTypes, serializers.Serializer):
    """Input to declare an incident; the team must be one of the caller's."""

    title = serializers.CharField(max_length=255, validators=[validate_one_line])
    severity = SeverityField(help_text="SEV1 (most severe) .. SEV4.")
    team = VisibleTeamField(help_text="Slug of the owning team; you must be a member.")
    services = VisibleServiceField(many=True, required=False, help_text="Slugs of affected services.")
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    impact = serializers.CharField(required=False, allow_blank=True)
    started_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When impact began; ISO 8601, not in the future."
    )
    users_affected = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    revenue_impact = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    customer_facing = serializers.BooleanField(required=False)


class IncidentUpdateSerializer(IncidentCreateSerializer):
    """Input to change an incident's details. Status changes go through the transition endpoints."""

    team = None  # an incident stays with the team that declared it
    root_cause = serializers.CharField(required=False, allow_blank=True, help_text="What caused it, once known.")
    resolution_summary = serializers.CharField(required=False, allow_blank=True, help_text="How it was resolved.")

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            if "status" in data:
                errors["status"] = [
                    "Status cannot be set directly; POST to /api/v1/incidents/{number}/{transition}/ "
                    f"with one of: {', '.join(TRANSITIONS)}."
                ]
            instance = self.instance
            if "team" in data and instance is not None and data["team"] != instance.team.slug:
                errors["team"] = ["An incident stays with the team that declared it; declare a new one instead."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class TransitionSerializer(JSONTypes, serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="Why, in a line; shown on the timeline. Post longer text as a note.",
    )
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500,
        help_text="Staff only, on `close`: close although another app refuses (a required postmortem not yet "
                  "published: 409 `postmortem_required`); the reason goes on the timeline.",
    )
    resolution_summary = serializers.CharField(
        required=False, allow_blank=True,
        help_text="`resolve` only: how it was resolved, stored on the incident (`resolution_summary`).",
    )


class NoteSerializer(JSONTypes, serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Note
        fields = ["id", "body", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class StatusUpdateSerializer(JSONTypes, serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    public = serializers.BooleanField(default=False, help_text="Shown on the public status page.")
    body = serializers.CharField(
        required=False, allow_blank=True,
        help_text="The text; leave it out with `template` to post that template's draft as is.",
    )
    template = serializers.ChoiceField(
        choices=[], required=False, write_only=True,
        help_text="A communication template kind: drafts `body` from it when `body` is left out.",
    )
    next_update_at = serializers.DateTimeField(
        required=False, allow_null=True,
        help_text="When the next update is promised (within 7 days); the communications lead, or the "
                  "commander, is reminded when it passes without one.",
    )

    class Meta:
        model = StatusUpdate
        fields = ["id", "state", "body", "public", "template", "next_update_at", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The kinds are comms' (registered when the apps are ready), not known when this class is made.
        self.fields["template"].choices = draft_kinds()


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField(
        help_text="created, status_changed, field_changed, role_assigned, role_removed, note, alert, "
                  "notification, status_update, escalated, checklist, …"
    )
    actor = serializers.SerializerMethodField(help_text="Username of who did it; null for the system.")
    summary = serializers.CharField()
    data = serializers.DictField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event) -> str | None:
        return getattr(event.actor, "username", None)


# --- Services ------------------------------------------------------------------

MAX_ID = 2**63 - 1


class PolicyIdField(serializers.IntegerField):
    """An escalation policy by id (or null), read from the row's own column: no query per service."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, allow_null=True, required=False, **kwargs)

    def get_attribute(self, instance):
        return instance.escalation_policy_id


@extend_schema_field({
    "type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "example": {"SEV1": 12, "SEV2": 13},
})
class SeverityPoliciesField(serializers.Field):
    """``{"SEV1": policy id, ...}``: the policy used for incidents of that severity instead of the
    service's default. Written whole: what is left out is no longer mapped."""

    default_error_messages = {
        "invalid": "Give an object of severity names and policy ids, such as {{\"SEV1\": 12, \"SEV2\": 13}}.",
        "bad_id": "{severity}: give a policy's id, a whole number, not {value!r}.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            self.fail("invalid")
        for severity, value in data.items():
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
                self.fail("bad_id", severity=severity, value=value)
        return {str(key).strip().upper(): value for key, value in data.items()}

    def to_representation(self, service):
        return {sp.severity.name: sp.policy_id for sp in service.severity_policies.all()}

    def get_attribute(self, instance):
        return instance


def _with_severity_policies(services) -> list:
    services = list(services)
    prefetch_related_objects(services, Prefetch("severity_policies",
                                                queryset=SeverityPolicy.objects.select_related("severity")))
    return services


class _ServiceList(serializers.ListSerializer):
    def to_representation(self, data):
        # One query for every service's per-severity policies, whatever the page's length.
        return super().to_representation(_with_severity_policies(data.all() if hasattr(data, "all") else data))


class ServiceSerializer(JSONTypes, serializers.ModelSerializer):
    team = VisibleTeamField(help_text="Slug of the owning team; you must lead or manage it.")
    escalation_policy = PolicyIdField(
        help_text="Id of one of the team's escalation policies, used for this service's incidents; null: the "
                  "team's default policy (GET /api/v1/escalation-policies/?team=<slug>).",
    )
    escalation_policies = SeverityPoliciesField(
        required=False,
        help_text="Per severity, the id of the team's policy used instead of escalation_policy, e.g. "
                  "{\"SEV1\": 12}. A write replaces the whole mapping; {} removes it.",
    )

    class Meta:
        model = Service
        fields = ["slug", "name", "team", "description", "runbook_url", "runbook", "escalation_policy",
                  "escalation_policies", "created_at"]
        read_only_fields = ["created_at"]
        list_serializer_class = _ServiceList

    def to_representation(self, instance):
        if not isinstance(self.parent, serializers.ListSerializer):
            _with_severity_policies([instance])
        return super().to_representation(instance)

    def validate(self, attrs):
        """Policies by id become policies of the service's team (after a move, the new team's); an id of
        another team's policy is refused exactly as one that does not exist."""
        team = attrs.get("team") or getattr(self.instance, "team", None)
        if team is None:
            return attrs
        where = f"(GET /api/v1/escalation-policies/?team={team.slug})"
        ids = set(attrs.get("escalation_policies", {}).values())
        if attrs.get("escalation_policy") is not None:
            ids.add(attrs["escalation_policy"])
        found = EscalationPolicy.objects.filter(team=team).in_bulk(ids) if ids else {}
        errors = {}
        if (pk := attrs.get("escalation_policy")) is not None:
            attrs["escalation_policy"] = found.get(pk)
            if attrs["escalation_policy"] is None:
                errors["escalation_policy"] = [f"Team {team.slug} has no escalation policy {pk}; give the id of "
                                               f"one of its policies {where}, or null for the team's default."]
        if "escalation_policies" in attrs:
            severities = set(Severity.objects.values_list("name", flat=True))
            mapping, problems = {}, []
            for name, pk in attrs["escalation_policies"].items():
                if name not in severities:
                    problems.append(f"Unknown severity {name!r}; use {', '.join(sorted(severities))}.")
                elif pk not in found:
                    problems.append(f"{name}: team {team.slug} has no escalation policy {pk}; give the id of "
                                    f"one of its policies {where}.")
                else:
                    mapping[name] = found[pk]
            if problems:
                errors["escalation_policies"] = problems
            attrs["escalation_policies"] = mapping
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
