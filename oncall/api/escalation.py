"""Escalation policies over HTTP. Thin: look up, validate, call a service.

A team's members may read its policies; its leads and managers (and staff)
may create, change and delete them (403 for a member). A policy of a team the
caller cannot see is a 404. Lists run a fixed number of queries: the policies,
then the people, rotations and teams their steps name, once for the page.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from ..models import EscalationPolicy, Team
from ..permissions import require_team_manager
from ..services import create_policy, delete_policy, update_policy
from ..services.escalation import TO
from ..targets import target_names
from .serializers.escalation import (
    EscalationPolicyInputSerializer,
    EscalationPolicySerializer,
    EscalationPolicyUpdateSerializer,
)

ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The policy's id.")


def visible_policies(user):
    return (EscalationPolicy.objects.filter(team__in=Team.objects.visible_to(user))
            .select_related("team").order_by("team__name", "name", "id"))


def _find(request, pk) -> EscalationPolicy:
    policy = visible_policies(request.user).filter(pk=pk).first()
    if policy is None:
        raise NotFound(f"No escalation policy {pk} among your teams' policies.")
    return policy


@extend_schema_view(
    get=extend_schema(summary="Escalation policies of your teams",
                      parameters=[OpenApiParameter("team", str, description="A team's slug: only its policies.")]),
    post=extend_schema(summary="Create an escalation policy (team leads, managers, staff)",
                       request=EscalationPolicyInputSerializer, responses={201: EscalationPolicySerializer}),
)
class PolicyList(generics.ListCreateAPIView):
    serializer_class = EscalationPolicySerializer
    filter_backends: list = []

    def get_queryset(self):
        qs = visible_policies(self.request.user)
        if team := self.request.query_params.get("team"):
            qs = qs.filter(team__slug=team)
        return qs

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        names = target_names([policy.steps for policy in page])
        return self.get_paginated_response(EscalationPolicySerializer(page, many=True, context={"names": names}).data)

    def create(self, request, *args, **kwargs):
        data = EscalationPolicyInputSerializer(data=request.data,
                                               context={"teams": Team.objects.visible_to(request.user)})
        data.is_valid(raise_exception=True)
        # Before the steps are read: a member learns "not allowed" rather than what is wrong with them.
        require_team_manager(request.user, data.validated_data["team"], to=TO)
        policy = create_policy(by=request.user, **data.validated_data)
        return Response(EscalationPolicySerializer(policy).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="An escalation policy", parameters=[ID]),
    patch=extend_schema(summary="Change an escalation policy (team leads, managers, staff)", parameters=[ID],
                        request=EscalationPolicyUpdateSerializer, responses={200: EscalationPolicySerializer}),
    delete=extend_schema(summary="Delete an escalation policy (team leads, managers, staff); services that named "
                                 "it are left without one and use the team's default", parameters=[ID],
                         responses={204: None}),
)
class PolicyDetail(generics.GenericAPIView):
    serializer_class = EscalationPolicySerializer
    filter_backends: list = []

    def get(self, request, pk):
        return Response(EscalationPolicySerializer(_find(request, pk)).data)

    def patch(self, request, pk):
        policy = _find(request, pk)
        require_team_manager(request.user, policy.team, to=TO)
        team = request.data.get("team") if isinstance(request.data, dict) else None
        if team is not None and team != policy.team.slug:
            raise ValidationError({"team": ["A policy stays with its team; create one in the other team instead."]})
        data = EscalationPolicyUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        policy = update_policy(policy=policy, by=request.user, **data.validated_data)
        return Response(EscalationPolicySerializer(policy).data)

    def delete(self, request, pk):
        policy = _find(request, pk)
        delete_policy(policy=policy, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("escalation-policies/", PolicyList.as_view(), name="api-escalation-policies"),
    path("escalation-policies/<id:pk>/", PolicyDetail.as_view(), name="api-escalation-policy"),
]
