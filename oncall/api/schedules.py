"""Rotations, shifts, overrides and who is on call over HTTP. Thin: look up, validate, call.

A rotation or override of a team the caller cannot see is a 404; creating a
rotation needs the team's lead or manager role (403 otherwise); any member
may override their team's rotations. Shifts always come from
``oncall.schedule.final_shifts``.
"""

from datetime import timedelta

from django.urls import path
from django.utils import timezone as djtz
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.ids import parse_id
from core.instants import PATTERN as INSTANT_PATTERN
from core.instants import RANGE

from ..models import Team
from ..permissions import require_team_manager
from ..queries import visible_overrides, visible_rotations
from ..schedule import final_shifts, rotation_queryset, who_is_on_call
from ..services import create_override, create_rotation, delete_override
from .serializers.schedules import (
    OnCallSerializer,
    OverrideInputSerializer,
    OverrideSerializer,
    RotationInputSerializer,
    RotationSerializer,
    ShiftSerializer,
    ShiftWindowSerializer,
)

MAX_WINDOW = timedelta(days=400)
DEFAULT_WINDOW = timedelta(days=28)
ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
TEAM = OpenApiParameter("team", str, description="A team's slug: only its rotations.")
# An instant asked for: ISO 8601 with an offset, in the years Vigil accepts (core.instants).
INSTANT = {"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN}


def _instant(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, INSTANT, description=f"{description}; {RANGE}.")


def _find_rotation(request, pk):
    rotation = visible_rotations(request.user).filter(pk=pk).first()
    if rotation is None:
        raise NotFound(f"No rotation {pk} among your teams' rotations.")
    return rotation


@extend_schema_view(
    get=extend_schema(summary="Rotations of your teams", parameters=[
        TEAM, OpenApiParameter("layer", str, description="A layer's name, e.g. primary: only its rotations."),
    ]),
    post=extend_schema(summary="Create a rotation (team leads, managers, staff)", request=RotationInputSerializer,
                       responses={201: RotationSerializer}),
)
class RotationList(generics.ListCreateAPIView):
    serializer_class = RotationSerializer
    filter_backends: list = []

    def get_queryset(self):
        qs = visible_rotations(self.request.user)
        if team := self.request.query_params.get("team"):
            qs = qs.filter(team__slug=team)
        if layer := self.request.query_params.get("layer"):
            qs = qs.filter(layer=layer)
        return qs

    def create(self, request, *args, **kwargs):
        data = RotationInputSerializer(data=request.data, context={"teams": Team.objects.visible_to(request.user)})
        data.is_valid(raise_exception=True)
        team = data.validated_data["team"]
        require_team_manager(request.user, team, to="create rotations")
        rotation = create_rotation(by=request.user, **data.validated_data)
        rotation = rotation_queryset().get(pk=rotation.pk)
        return Response(RotationSerializer(rotation).data, status=status.HTTP_201_CREATED)


@extend_schema(summary="A rotation", parameters=[ID])
class RotationDetail(generics.RetrieveAPIView):
    serializer_class = RotationSerializer
    filter_backends: list = []

    def get_object(self):
        return _find_rotation(self.request, self.kwargs["pk"])


@extend_schema(
    summary="Final shifts of a rotation in a window, overrides applied",
    parameters=[ID, _instant("start", "ISO 8601 with an offset; default now"),
                _instant("end", "ISO 8601 with an offset, after start and at most 400 days from it; "
                                "default start + 28 days")],
    responses={200: ShiftSerializer(many=True)},
)
class RotationShifts(APIView):
    def get(self, request, pk):
        window = ShiftWindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        start = window.validated_data.get("start") or djtz.now()
        end = window.validated_data.get("end") or start + DEFAULT_WINDOW
        if end <= start:
            raise ValidationError({"end": "end must be after start."})
        if end - start > MAX_WINDOW:
            raise ValidationError({"end": f"Ask for at most {MAX_WINDOW.days} days at a time."})
        rotation = _find_rotation(request, pk)
        return Response(ShiftSerializer(final_shifts(rotation, start, end), many=True).data)


@extend_schema_view(
    get=extend_schema(summary="Overrides of your teams' rotations",
                      parameters=[OpenApiParameter("rotation", {"type": "integer", "minimum": 1},
                                                   description="A rotation's id: only its overrides."),
                                  OpenApiParameter("team", str, description="A team's slug: only its overrides.")]),
    post=extend_schema(summary="Create an override (team members)", request=OverrideInputSerializer,
                       responses={201: OverrideSerializer}),
)
class OverrideList(generics.ListCreateAPIView):
    serializer_class = OverrideSerializer
    filter_backends: list = []

    def get_queryset(self):
        qs = visible_overrides(self.request.user)
        params = self.request.query_params
        if rotation := params.get("rotation"):
            rotation_id = parse_id(rotation)
            if rotation_id is None:
                raise ValidationError({"rotation": "Give a rotation id."})
            qs = qs.filter(rotation_id=rotation_id)
        if team := params.get("team"):
            qs = qs.filter(rotation__team__slug=team)
        return qs.order_by("start_at", "id")

    def create(self, request, *args, **kwargs):
        data = OverrideInputSerializer(data=request.data,
                                       context={"rotations": visible_rotations(request.user)})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        override = create_override(rotation=v["rotation"], user=v["user"], start=v["start"], end=v["end"],
                                   reason=v["reason"], by=request.user)
        return Response(OverrideSerializer(override).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="An override", parameters=[ID]),
    delete=extend_schema(summary="Remove an override (team members)", parameters=[ID], responses={204: None}),
)
class OverrideDetail(generics.RetrieveDestroyAPIView):
    serializer_class = OverrideSerializer
    filter_backends: list = []

    def get_object(self):
        override = visible_overrides(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if override is None:
            raise NotFound(f"No override {self.kwargs['pk']} among your teams' rotations.")
        return override

    def perform_destroy(self, instance):
        delete_override(override=instance, by=self.request.user)


@extend_schema(
    summary="Who is on call at an instant, per rotation",
    parameters=[_instant("at", "ISO 8601 with an offset; default now"),
                OpenApiParameter("team", str, description="A team slug; default all your teams")],
    responses={200: OnCallSerializer(many=True),
               404: OpenApiResponse(description="No team with that slug among your teams.")},
)
class OnCallNow(APIView):
    def get(self, request):
        # An empty ?at= is no at (now), as an empty ?start= is for the shifts and empty filters are everywhere.
        at = request.query_params.get("at")
        window = ShiftWindowSerializer(data={"start": at} if at else {})
        if not window.is_valid():
            raise ValidationError({"at": window.errors["start"]})
        at = window.validated_data.get("start") or djtz.now()
        teams = Team.objects.visible_to(request.user)
        if slug := request.query_params.get("team"):
            teams = teams.filter(slug=slug)
            if not teams.exists():
                raise NotFound(f"No team {slug!r} among your teams.")
        return Response(OnCallSerializer(who_is_on_call(at, teams), many=True).data)


urlpatterns = [
    path("rotations/", RotationList.as_view(), name="api-rotations"),
    path("rotations/<id:pk>/", RotationDetail.as_view(), name="api-rotation"),
    path("rotations/<id:pk>/shifts/", RotationShifts.as_view(), name="api-rotation-shifts"),
    path("overrides/", OverrideList.as_view(), name="api-overrides"),
    path("overrides/<id:pk>/", OverrideDetail.as_view(), name="api-override"),
    path("oncall/", OnCallNow.as_view(), name="api-oncall"),
]
