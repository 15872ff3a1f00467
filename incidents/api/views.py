"""Views of the incident core API. Thin: they look up, validate, call a service.

Every incident endpoint first finds the incident among those the caller may
see (``incidents_for``), so another team's incident is a 404 everywhere.
Writes go through ``incidents.services``; a PermissionDenied from a service
becomes a 403 and a Django ValidationError a 400 (``config.api``).
"""

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from config.api import Conflict
from oncall.models import Team, User
from oncall.permissions import require_team_manager

from ..drafts import draft
from ..guards import ClosingRefused
from ..models import Incident, Note, RoleAssignment, Service, Source, StatusUpdate
from ..models.incident import TRANSITIONS
from ..queries import incidents_for, services_for, timeline
from ..services import (
    IllegalTransition,
    add_note,
    assign_role,
    create_incident,
    create_service,
    post_status_update,
    remove_role,
    resolve_incident,
    transition_incident,
    update_incident,
    update_service,
)
from .filters import IncidentFilter, ServiceFilter
from .serializers import (
    IncidentCreateSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
    NoteSerializer,
    RoleSerializer,
    ServiceSerializer,
    StatusUpdateSerializer,
    TimelineEventSerializer,
    TransitionSerializer,
)

NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="The incident's number, e.g. INC-2026-0042."
)
TRANSITION = OpenApiParameter(
    "transition", str, OpenApiParameter.PATH, enum=TRANSITIONS, description="The lifecycle transition to fire."
)
ILLEGAL = OpenApiResponse(
    response={"$ref": "#/components/schemas/IllegalTransition"},  # config.schema adds the component
    description='Illegal now: `{"detail", "code": "illegal_transition", "status", "allowed"}`.',
)


def find_incident(request, number: str, queryset=None) -> Incident:
    """The incident with this number among those the caller may see, else 404."""
    if queryset is None:
        # The services check the caller against the incident's team.
        queryset = Incident.objects.visible_to(request.user).select_related("team")
    incident = queryset.filter(number=number.strip().upper()).first()
    if incident is None:
        raise NotFound(f"No incident {number} among the incidents of your teams.", code="not_found")
    return incident


def _detail(request, incident: Incident, status_code=status.HTTP_200_OK) -> Response:
    # Re-read through the selector so the response carries its prefetches and fresh values.
    fresh = incidents_for(request.user).get(pk=incident.pk)
    return Response(IncidentSerializer(fresh, context={"request": request}).data, status=status_code)


class IncidentSubresource:
    """Mixin: ``self.incident``, found once per request (404 if the caller may not see it)."""

    _incident = None

    @property
    def incident(self) -> Incident:
        if self._incident is None:
            self._incident = find_incident(self.request, self.kwargs["number"])
        return self._incident

    def fake(self) -> bool:
        # drf-spectacular builds views without URL kwargs to read their querysets.
        return getattr(self, "swagger_fake_view", False)


# --- Incidents -----------------------------------------------------------------

@extend_schema_view(
    get=extend_schema(summary="List the incidents of your teams"),
    post=extend_schema(summary="Declare an incident", request=IncidentCreateSerializer,
                       responses={201: IncidentSerializer}),
)
class IncidentList(generics.ListCreateAPIView):
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter

    def get_queryset(self):
        return incidents_for(self.request.user)

    def create(self, request, *args, **kwargs):
        data = IncidentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        incident = create_incident(by=request.user, source=Source.API, **fields)
        return _detail(request, incident, status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="An incident", parameters=[NUMBER]),
    patch=extend_schema(summary="Change an incident's details (not its status)", parameters=[NUMBER],
                        request=IncidentUpdateSerializer, responses={200: IncidentSerializer}),
)
class IncidentDetail(generics.GenericAPIView):
    serializer_class = IncidentSerializer
    filter_backends: list = []

    def get(self, request, number):
        incident = find_incident(request, number, incidents_for(request.user))
        return Response(IncidentSerializer(incident, context={"request": request}).data)

    def patch(self, request, number):
        incident = find_incident(request, number)
        data = IncidentUpdateSerializer(incident, data=request.data, partial=True, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        services = fields.pop("services", None)
        incident = update_incident(incident=incident, by=request.user, services=services, **fields)
        return _detail(request, incident)


@extend_schema_view(post=extend_schema(
    operation_id="v1_incidents_transition",
    summary="Move an incident through its lifecycle",
    parameters=[NUMBER, TRANSITION],
    request=TransitionSerializer,
    responses={200: IncidentSerializer, 404: OpenApiResponse(description="Unknown incident or transition."),
               409: ILLEGAL},
))
class IncidentTransition(generics.GenericAPIView):
    serializer_class = TransitionSerializer
    filter_backends: list = []

    def post(self, request, number, transition):
        # The URL only matches the seven transition names (api/core.py), so no check here.
        incident = find_incident(request, number)
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note, summary = data.validated_data.get("note", ""), data.validated_data.get("resolution_summary", "")
        if summary and transition != "resolve":
            raise ValidationError({"resolution_summary": ["Only resolving takes a resolution summary."]})
        try:
            if transition == "resolve":
                incident = resolve_incident(incident=incident, by=request.user, note=note, summary=summary)
            else:
                incident = transition_incident(incident=incident, transition=transition, by=request.user, note=note,
                                               override_reason=data.validated_data.get("override_reason", ""))
        except IllegalTransition as err:
            raise Conflict(str(err), code="illegal_transition", status=err.status, allowed=err.allowed) from err
        except ClosingRefused as err:  # another app's guard (incidents.guards): e.g. postmortem_required
            raise Conflict(err.message, code=err.code, status=err.incident.status) from err
        return _detail(request, incident)


@extend_schema(summary="Every event of an incident, oldest first", parameters=[NUMBER])
class IncidentTimeline(IncidentSubresource, generics.ListAPIView):
    serializer_class = TimelineEventSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return []
        return timeline(self.incident)


# --- Notes, roles, status updates ---------------------------------------------------

@extend_schema_view(
    get=extend_schema(summary="An incident's notes", parameters=[NUMBER]),
    post=extend_schema(summary="Add a note to the timeline", parameters=[NUMBER]),
)
class IncidentNotes(IncidentSubresource, generics.ListCreateAPIView):
    serializer_class = NoteSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return Note.objects.none()
        return Note.objects.filter(incident=self.incident).select_related("author")

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = add_note(incident=self.incident, by=request.user, body=data.validated_data["body"])
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


def role_candidates(user, incident: Incident):
    """Who may be given a role: active people of the caller's teams or of the incident's team, and
    its responders (a paged expert from another team)."""
    if user.is_staff:
        return User.objects.all()
    return User.objects.filter(
        Q(memberships__team__in=Team.objects.visible_to(user)) | Q(memberships__team=incident.team_id)
        | Q(responding__incident=incident)
    ).distinct()


@extend_schema_view(
    get=extend_schema(summary="Who holds which role on an incident", parameters=[NUMBER]),
    post=extend_schema(summary="Give someone a role (a single-seat role changes hands)", parameters=[NUMBER],
                       responses={201: RoleSerializer, 200: OpenApiResponse(
                           RoleSerializer, description="They already hold it: nothing changed.")}),
)
class IncidentRoles(IncidentSubresource, generics.ListCreateAPIView):
    serializer_class = RoleSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return RoleAssignment.objects.none()
        return RoleAssignment.objects.filter(incident=self.incident).select_related("user", "assigned_by")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not self.fake() and self.request.method == "POST":
            context["users"] = role_candidates(self.request.user, self.incident)
        return context

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        now = timezone.now()
        assignment = assign_role(
            incident=self.incident, role=data.validated_data["role"], user=data.validated_data["user"],
            by=request.user, now=now,
        )
        # assign_role is idempotent: the current holder assigned again is a 200, not a new 201.
        code = status.HTTP_201_CREATED if assignment.assigned_at == now else status.HTTP_200_OK
        return Response(RoleSerializer(assignment).data, status=code)


@extend_schema(
    summary="Take a role away",
    parameters=[NUMBER, OpenApiParameter("id", int, OpenApiParameter.PATH)],
    responses={204: None},
)
class IncidentRoleDetail(IncidentSubresource, generics.GenericAPIView):
    serializer_class = RoleSerializer
    filter_backends: list = []

    def delete(self, request, number, id):  # noqa: A002 - the URL's name
        assignment = RoleAssignment.objects.filter(incident=self.incident, pk=id).select_related("incident__team").first()
        if assignment is None:
            raise NotFound(f"No role assignment {id} on {self.incident.number}; GET its roles/ for their ids.")
        remove_role(assignment=assignment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(summary="An incident's stakeholder updates", parameters=[NUMBER]),
    post=extend_schema(summary="Post a stakeholder update (public ones reach the status page)",
                       parameters=[NUMBER]),
)
class IncidentUpdates(IncidentSubresource, generics.ListCreateAPIView):
    serializer_class = StatusUpdateSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return StatusUpdate.objects.none()
        return StatusUpdate.objects.filter(incident=self.incident).select_related("author")

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        kind = fields.pop("template", None)  # one of draft_kinds(): the serializer's choices
        if kind is not None:
            if not fields.get("body", "").strip():
                fields["body"] = draft(kind, self.incident, next_update_at=fields.get("next_update_at"))[1]
        update = post_status_update(incident=self.incident, by=request.user, body=fields.pop("body", ""), **fields)
        return Response(StatusUpdateSerializer(update).data, status=status.HTTP_201_CREATED)


# --- Services ------------------------------------------------------------------

@extend_schema_view(
    get=extend_schema(summary="The services of your teams"),
    post=extend_schema(summary="Add a service (team leads, managers and staff)"),
)
class ServiceList(generics.ListCreateAPIView):
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter

    def get_queryset(self):
        return services_for(self.request.user)

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        # create_service refuses (403) anyone who may not manage the team.
        service = create_service(by=request.user, **data.validated_data)
        return Response(ServiceSerializer(service, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="A service"),
    patch=extend_schema(summary="Change a service (team leads, managers and staff)"),
)
class ServiceDetail(generics.RetrieveUpdateAPIView):
    serializer_class = ServiceSerializer
    lookup_field = "slug"
    http_method_names = ["get", "patch", "head", "options"]
    filter_backends: list = []

    def get_queryset(self):
        return services_for(self.request.user)

    def get_object(self) -> Service:
        service = self.get_queryset().filter(slug=self.kwargs["slug"]).first()
        if service is None:
            raise NotFound(f"No service {self.kwargs['slug']!r} among the services of your teams.")
        return service

    def update(self, request, *args, **kwargs):
        service = self.get_object()
        # Checked before validating input, so a member learns "not allowed" rather than field errors.
        require_team_manager(request.user, service.team, to="change its services")
        data = self.get_serializer(service, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        service = update_service(service=service, by=request.user, **data.validated_data)
        return Response(ServiceSerializer(service, context={"request": request}).data)
