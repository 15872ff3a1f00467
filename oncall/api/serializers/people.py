"""Serializers for people, teams and memberships: shapes only, no writes."""

from rest_framework import serializers

from config.api import JSONTypes

from ...models import Membership, Team, User
from ...queries import UNKNOWN_MEMBER, addable_members


class UserSerializer(JSONTypes, serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["username", "email", "full_name", "timezone", "is_active"]
        read_only_fields = ["is_active"]


class TeamSerializer(JSONTypes, serializers.ModelSerializer):
    slug = serializers.SlugField(
        max_length=60, required=False,
        help_text="Stable reference used in URLs; made from the name when left out (made up if the name has no "
                  "ASCII letters or digits). Fixed once created.",
    )

    class Meta:
        model = Team
        fields = ["slug", "name", "timezone", "description", "created_at"]
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
