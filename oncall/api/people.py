"""People, teams and memberships over HTTP. Thin: look up, validate, call a service.

Visibility follows ``oncall.permissions``: a person sees the teams they
belong to and the people who share one with them; staff see everyone. A team
the caller cannot see is a 404; one they see but may not change is a 403.
"""

import secrets

from django.db.models import Q
from django.urls import path
from django.utils.text import slugify
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from ..models import Membership, Team, User
from ..permissions import require_team_manager
from ..services import (
    create_team,
    create_user,
    remove_membership,
    set_membership,
    set_slack_user_id,
    update_team,
)
from .serializers.people import (
    MembershipSerializer,
    TeamSerializer,
    TeamUpdateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)

SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The team's slug.")


def users_for(user):
    """People the caller may see: those sharing a team with them, and themselves; staff see all."""
    if user.is_staff:
        return User.objects.all()
    return User.objects.filter(Q(memberships__team__memberships__user=user) | Q(pk=user.pk)).distinct()


def find_team(request, slug: str) -> Team:
    team = Team.objects.visible_to(request.user).filter(slug=slug).first()
    if team is None:
        raise NotFound(f"No team {slug!r} among your teams.")
    return team


def require_staff(user, what: str) -> None:
    if not user.is_staff:
        raise PermissionDenied(f"Only staff may create {what}.")


# --- Users -----------------------------------------------------------------------

@extend_schema_view(
    get=extend_schema(summary="People who share a team with you (staff: everyone)"),
    post=extend_schema(summary="Create a person (staff only)"),
)
class UserList(generics.ListCreateAPIView):
    serializer_class = UserSerializer
    filter_backends: list = []

    def get_queryset(self):
        return users_for(self.request.user)

    def create(self, request, *args, **kwargs):
        require_staff(request.user, "users")
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = create_user(by=request.user, site_url=request.build_absolute_uri("/"), **data.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


USERNAME = OpenApiParameter("username", str, OpenApiParameter.PATH)


@extend_schema_view(
    get=extend_schema(summary="A person", parameters=[USERNAME]),
    patch=extend_schema(summary="Change a person's Slack member id (the person themselves or staff)",
                        parameters=[USERNAME], request=UserUpdateSerializer, responses={200: UserSerializer}),
)
class UserDetail(generics.RetrieveAPIView):
    serializer_class = UserSerializer
    filter_backends: list = []

    def get_object(self):
        username = self.kwargs["username"]
        user = users_for(self.request.user).filter(username=username).first()
        if user is None:
            raise NotFound(f"No user {username!r} among the people of your teams.")
        return user

    def patch(self, request, username):
        user = self.get_object()
        if user.pk != request.user.pk and not request.user.is_staff:
            raise PermissionDenied("Only the person themselves or staff may change this.")
        data = UserUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "slack_user_id" in data.validated_data:
            user = set_slack_user_id(user=user, slack_user_id=data.validated_data["slack_user_id"], by=request.user)
        return Response(UserSerializer(user).data)


@extend_schema(summary="Yourself")
class Me(generics.RetrieveAPIView):
    serializer_class = UserSerializer
    filter_backends: list = []

    def get_object(self):
        return self.request.user


# --- Teams -----------------------------------------------------------------------

@extend_schema_view(
    get=extend_schema(summary="Your teams (staff: all)"),
    post=extend_schema(summary="Create a team (staff only)"),
)
class TeamList(generics.ListCreateAPIView):
    serializer_class = TeamSerializer
    filter_backends: list = []

    def get_queryset(self):
        return Team.objects.visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        require_staff(request.user, "teams")
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if not fields.get("slug"):
            # A name without ASCII letters or digits (say 日本) makes no slug: one is made up, and the answer says it.
            fields["slug"] = slugify(fields["name"])[:60] or f"team-{secrets.token_hex(4)}"
        team = create_team(by=request.user, **fields)
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="A team", parameters=[SLUG]),
    patch=extend_schema(summary="Change a team (leads, managers, staff)", parameters=[SLUG],
                        request=TeamUpdateSerializer, responses={200: TeamSerializer}),
)
class TeamDetail(generics.GenericAPIView):
    serializer_class = TeamSerializer
    filter_backends: list = []

    def get(self, request, slug):
        return Response(TeamSerializer(find_team(request, slug)).data)

    def patch(self, request, slug):
        team = find_team(request, slug)
        # Checked before the input is validated, so a member learns "not allowed" rather than field errors.
        require_team_manager(request.user, team, to="change it")
        data = TeamUpdateSerializer(team, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        team = update_team(team=team, by=request.user, **data.validated_data)
        return Response(TeamSerializer(team).data)


@extend_schema_view(
    get=extend_schema(summary="A team's members", parameters=[SLUG]),
    post=extend_schema(summary="Add a member or change their role (leads, managers, staff)", parameters=[SLUG],
                       responses={201: MembershipSerializer, 200: OpenApiResponse(
                           MembershipSerializer, description="Already a member: the role as it now is.")}),
)
class TeamMembers(generics.ListCreateAPIView):
    serializer_class = MembershipSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        team = find_team(self.request, self.kwargs["slug"])
        return Membership.objects.filter(team=team).select_related("user")

    def create(self, request, slug):
        team = find_team(request, slug)
        require_team_manager(request.user, team, to="change its members")
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = data.validated_data["user"]
        existed = Membership.objects.filter(team=team, user=user).exists()
        membership = set_membership(team=team, user=user, role=data.validated_data["role"], by=request.user)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(MembershipSerializer(membership).data, status=code)


@extend_schema(
    summary="Remove a member (leads, managers, staff)",
    parameters=[SLUG, OpenApiParameter("username", str, OpenApiParameter.PATH)],
    responses={204: None},
)
class TeamMember(generics.GenericAPIView):
    serializer_class = MembershipSerializer
    filter_backends: list = []

    def delete(self, request, slug, username):
        team = find_team(request, slug)
        require_team_manager(request.user, team, to="change its members")
        membership = Membership.objects.filter(team=team, user__username=username).select_related("team").first()
        if membership is None:
            raise NotFound(f"{username!r} is not a member of {team.slug}.")
        remove_membership(membership=membership, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("users/", UserList.as_view(), name="api-users"),
    path("users/me/", Me.as_view(), name="api-me"),
    path("users/<str:username>/", UserDetail.as_view(), name="api-user"),
    path("teams/", TeamList.as_view(), name="api-teams"),
    path("teams/<slug:slug>/", TeamDetail.as_view(), name="api-team"),
    path("teams/<slug:slug>/members/", TeamMembers.as_view(), name="api-team-members"),
    path("teams/<slug:slug>/members/<str:username>/", TeamMember.as_view(), name="api-team-member"),
]
