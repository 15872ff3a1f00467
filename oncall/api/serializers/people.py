"""Serializers for people, teams and memberships: shapes only, no writes."""

from rest_framework import serializers

from config.api import JSONTypes

from ...models import Membership, Team, User
from ...models.people import SLACK_MEMBER_ID
from ...queries import UNKNOWN_MEMBER, addable_members


def slack_user_id_field() -> serializers.RegexField:
    # A pattern, so the schema says what Vigil takes; "" (none) is allow_blank's, which the schema
    # adds as a second oneOf branch: a pattern that took "" too would match both, and oneOf wants one.
    return serializers.RegexField(
        rf"^{SLACK_MEMBER_ID.pattern}$", max_length=32, required=False, allow_blank=True,
        error_messages={"invalid": "Not a Slack member id: it starts with U or W followed by capital letters and "
                                   "digits, such as U012AB3CD (Slack: your profile, ⋮, Copy member ID)."},
        help_text="Slack member id (U… or W…, such as U012AB3CD), linking Slack commands to this person; \"\" "
                  "for none. Writable by the person and staff.",
    )


class UserSerializer(JSONTypes, serializers.ModelSerializer):
    slack_user_id = slack_user_id_field()

    class Meta:
        model = User
        fields = ["username", "email", "full_name", "timezone", "slack_user_id", "is_active"]
        read_only_fields = ["is_active"]


class UserUpdateSerializer(JSONTypes, serializers.Serializer):
    """What PATCH changes on a person: their Slack member id (the person themselves or staff)."""

    slack_user_id = slack_user_id_field()


class TeamSerializer(JSONTypes, serializers.ModelSerializer):
    slug = serializers.SlugField(
        max_length=60, required=False,
        help_text="Stable reference used in URLs; made from the name when left out (made up if the name has no "
                  "ASCII letters or digits). Fixed once created.",
    )

    slack_channel = serializers.RegexField(
        r"^(?:[CG][A-Z0-9]{2,31}|https://\S+)$", max_length=300, required=False, allow_blank=True,
        help_text="The team's Slack channel id (C…), which the bot was invited to, or an incoming-webhook URL "
                  "(https://hooks.slack.com/services/…): internal incident updates are posted there.",
        error_messages={"invalid": "Neither a Slack channel id (C…, from the channel's About tab) nor an "
                                   "incoming-webhook URL (https://hooks.slack.com/services/…)."},
    )

    class Meta:
        model = Team
        fields = ["slug", "name", "timezone", "description", "slack_channel", "created_at"]
        read_only_fields = ["created_at"]


class TeamUpdateSerializer(TeamSerializer):
    slug = serializers.SlugField(read_only=True)


class MembershipSerializer(JSONTypes, serializers.ModelSerializer):
    """A member by username. Only staff may add staff: to anyone else an administrator's
    username reads exactly as one that does not exist, so usernames cannot be probed."""

    user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True),
        error_messages={"does_not_exist": UNKNOWN_MEMBER},
    )
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "full_name", "role", "joined_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and not request.user.is_staff:
            self.fields["user"].queryset = addable_members(request.user)
