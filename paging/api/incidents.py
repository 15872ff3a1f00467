"""Paging an incident's people through the API (../API.md, "On-call and escalation").

- ``GET  /api/v1/incidents/{number}/notifications/``: the pages sent about it (and, with ``?kind=``,
  its other messages), oldest first;
- ``POST /api/v1/incidents/{number}/page/``: page people now; they become its responders (202);
- ``GET  /api/v1/incidents/{number}/responders/``: who responds to it, and how they came to.

Every endpoint first finds the incident among those the caller may see
(``incidents.api.views.find_incident``: their teams' and those they respond
to), so another team's incident is a 404. Paging goes through
``paging.services.pages.page``, which refuses (403) anyone who may not work the
incident and (400) a target that does not exist or reaches nobody.
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from config.api import JSONTypes
from core.text import NON_BLANK_PATTERN
from incidents.api.views import NUMBER, IncidentSubresource
from incidents.models import Responder

from ..models import Notification
from ..queries import PAGE_KINDS, notifications_of, paged_responders, responders_of
from ..services.pages import MAX_PAGE_TARGETS, PAGE_TARGET_TYPES, page


class NotificationSerializer(serializers.ModelSerializer):
    """One message to one person about the incident, and how its delivery went."""

    user = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="Whom it was sent to.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "user", "channel", "step", "loop", "status", "attempts", "last_error",
                  "created_at", "sent_at"]
        read_only_fields = fields
        extra_kwargs = {
            "step": {"help_text": "The escalation step, counted from 0; null for a page sent by hand."},
            "loop": {"help_text": "How many times the policy had already run when this step paged; null by hand."},
            "sent_at": {"help_text": "When a channel took it; null while queued, and for a failed delivery."},
        }


class ResponderSerializer(serializers.ModelSerializer):
    """Someone pulled into the incident: paged, escalated to, or given a role."""

    user = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="The responder.")
    added_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                            help_text="Who paged them or gave them a role; null for an escalation.")

    class Meta:
        model = Responder
        fields = ["user", "added_by", "added_at", "via"]
        read_only_fields = fields


MAX_TARGET_ID_LENGTH = 150


@extend_schema_field({"oneOf": [{"type": "string", "minLength": 1, "maxLength": MAX_TARGET_ID_LENGTH,
                                 "pattern": NON_BLANK_PATTERN},
                                {"type": "integer"}],
                      "description": "A user's username, a team's slug, a rotation's or a policy's id."})
class TargetIdField(serializers.Field):
    """A username or slug (a string), or a rotation's or policy's id (a whole number, or its digits)."""

    default_error_messages = {"invalid": "Give a username or team slug (a string) or a rotation or policy id "
                                         "(a whole number)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        # The length before stripping, as the schema's maxLength counts it.
        if isinstance(data, str) and not (data.strip() and len(data) <= MAX_TARGET_ID_LENGTH):
            self.fail("invalid")
        return data.strip() if isinstance(data, str) else data

    def to_representation(self, value):
        return value


class PageTargetSerializer(JSONTypes, serializers.Serializer):
    """Whom to page: ``{"type": "user", "id": "ivan"}``, ``{"type": "team", "id": "platform"}``, …"""

    type = serializers.ChoiceField(
        choices=PAGE_TARGET_TYPES,
        help_text="`user` a person; `team` whoever is on call now in that team's primary layer; `team_members` "
                  "everyone in the team; `rotation` whoever is on call in it; `policy` its first step's targets.",
    )
    id = TargetIdField()

    def validate(self, attrs):
        # A rotation or policy is named by its number: digits in text are read as one, anything else
        # names none (and "²", which str.isdigit() takes but int() refuses, must not reach a query).
        kind, ident = attrs["type"], attrs["id"]
        if kind in ("rotation", "policy") and isinstance(ident, str):
            if not (ident.isascii() and ident.isdigit()):
                what = "rotation" if kind == "rotation" else "escalation policy"
                raise serializers.ValidationError(
                    {"id": [f"No {what} has the id {ident!r}: give its number (GET /api/v1/"
                            f"{'rotations' if kind == 'rotation' else 'escalation-policies'}/)."]})
            attrs["id"] = int(ident)
        return attrs


class PageSerializer(JSONTypes, serializers.Serializer):
    """Page these targets now, with an optional message."""

    # A ListField, not many=True: the schema then says minItems and maxItems.
    targets = serializers.ListField(child=PageTargetSerializer(), min_length=1, max_length=MAX_PAGE_TARGETS)
    message = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="",
                                    help_text="Sent with the page: what you need from them.")


class PageResultSerializer(serializers.Serializer):
    """What a page did: the people it reached (its responders now) and the messages queued."""

    responders = ResponderSerializer(many=True, help_text="The people this page reached, now responders.")
    notifications = serializers.IntegerField(help_text="How many messages were queued (one per contact method).")


KIND = OpenApiParameter(
    "kind", str, many=True, explode=False, style="form", enum=Notification.Kind.values,
    description="Comma-separated notification kinds; default `page,overdue` (the pages sent).",
)


@extend_schema(summary="The pages sent about an incident, oldest first", parameters=[NUMBER, KIND])
class IncidentNotifications(IncidentSubresource, generics.ListAPIView):
    serializer_class = NotificationSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return Notification.objects.none()
        kinds = PAGE_KINDS
        asked = self.request.query_params.get("kind")
        if asked:
            # Every item is a kind (an empty one too is refused: "page," is not a list of kinds).
            kinds = [k.strip() for k in asked.split(",")]
            unknown = sorted(set(kinds) - set(Notification.Kind.values))
            if unknown:
                raise serializers.ValidationError(
                    {"kind": [f"Unknown kind {', '.join(repr(k) for k in unknown)}; use any of {', '.join(Notification.Kind.values)}."]})
        return notifications_of(self.incident, kinds=kinds)


@extend_schema(
    summary="Page people about an incident now; they become its responders",
    parameters=[NUMBER], request=PageSerializer,
    responses={202: PageResultSerializer,
               400: OpenApiResponse(description="A target that does not exist, or reaches nobody now."),
               403: OpenApiResponse(description="You may see the incident but not work it."),
               404: OpenApiResponse(description="No such incident among yours.")},
)
class IncidentPage(IncidentSubresource, generics.GenericAPIView):
    serializer_class = PageSerializer
    filter_backends: list = []

    def post(self, request, number):
        data = PageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        now = timezone.now()
        notifications = page(
            incident=self.incident, by=request.user, message=data.validated_data["message"], now=now,
            targets=[{"type": t["type"], "id": t["id"]} for t in data.validated_data["targets"]],
        )
        responders = paged_responders(self.incident, by=request.user, at=now)
        return Response({"responders": ResponderSerializer(responders, many=True).data,
                         "notifications": len(notifications)}, status=status.HTTP_202_ACCEPTED)


@extend_schema(summary="Who responds to an incident, and how they came to", parameters=[NUMBER])
class IncidentResponders(IncidentSubresource, generics.ListAPIView):
    serializer_class = ResponderSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return Responder.objects.none()
        return responders_of(self.incident)


urlpatterns = [
    path("incidents/<str:number>/notifications/", IncidentNotifications.as_view(), name="api-incident-notifications"),
    path("incidents/<str:number>/page/", IncidentPage.as_view(), name="api-incident-page"),
    path("incidents/<str:number>/responders/", IncidentResponders.as_view(), name="api-incident-responders"),
]
