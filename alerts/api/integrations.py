"""Integration management API: /api/v1/integrations/ and alerts.

Anyone in a service's team sees its integrations (never the key, only its
first characters); leads, managers and staff create and change them. The
full key is in the response that creates or rotates it, and nowhere else.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from config.api import JSONTypes
from core.ids import parse_id
from core.links import site_url
from incidents.models import Service

from .. import queries as alert_queries
from ..models import PAYLOAD_SEVERITIES, Alert, Integration, IntegrationKind
from ..services import integrations as integration_services


def ingest_url(integration: Integration, key: str = "<key>", *, request=None) -> str:
    """The URL the integration's events are sent to: under SITE_URL, else under the request's own address."""
    base = site_url(request)
    return {
        IntegrationKind.EVENTS_V2: f"{base}/v2/enqueue",
        IntegrationKind.ALERTMANAGER: f"{base}/api/v1/integrations/alertmanager/",
        IntegrationKind.WEBHOOK: f"{base}/api/v1/integrations/webhook/{key}/",
        IntegrationKind.HEARTBEAT: f"{base}/api/v1/heartbeats/{key}/",
        # Grafana's "Alert API URL"; Alertmanager's api_url is the site's root (it appends v2/alerts).
        IntegrationKind.OPSGENIE: f"{base}/v2/alerts",
    }[integration.kind]


@extend_schema_field({
    "type": "object", "additionalProperties": False,
    "properties": {severity: {"type": "string", "description": "A severity's name, e.g. SEV1."}
                   for severity in PAYLOAD_SEVERITIES},
})
class SeverityMapField(serializers.JSONField):
    """Payload severity → incident severity, documented by its shape (the service checks the names)."""


# A heartbeat needs an interval; other kinds take neither interval nor grace (clean_heartbeat_fields).
HEARTBEAT_FIELDS_BY_KIND = {"anyOf": [
    {"properties": {"kind": {"enum": [IntegrationKind.HEARTBEAT]},
                    "interval_seconds": {"type": "integer", "minimum": 1}},
     "required": ["kind", "interval_seconds"]},
    {"properties": {"kind": {"enum": [k for k in IntegrationKind.values if k != IntegrationKind.HEARTBEAT]},
                    "interval_seconds": {"nullable": True, "enum": [None]},
                    "grace_seconds": {"nullable": True, "enum": [None]}}},
]}


class IntegrationSerializer(JSONTypes, serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.none())
    severity_map = SeverityMapField(required=False, help_text=Integration._meta.get_field("severity_map").help_text)
    endpoint = serializers.SerializerMethodField()
    refuses_unknown_fields = True  # validate() below; the schema says additionalProperties: false
    request_schema_extra = HEARTBEAT_FIELDS_BY_KIND  # on create (an update keeps the kind)
    fixed_after_create = ("service", "kind")  # read-only once there is an instance (__init__)

    class Meta:
        model = Integration
        fields = ["id", "service", "kind", "name", "severity_map", "enabled", "auto_resolve",
                  "rate_per_second", "burst", "interval_seconds", "grace_seconds", "key_prefix",
                  "heartbeat_state", "last_ping_at", "endpoint", "created_at"]
        read_only_fields = ["id", "key_prefix", "heartbeat_state", "last_ping_at", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["service"].queryset = Service.objects.visible_to(request.user).select_related("team")
        if self.instance is not None and not isinstance(self.instance, list | tuple) and hasattr(self.instance, "pk"):
            self.fields["service"].read_only = True
            self.fields["kind"].read_only = True

    def get_endpoint(self, obj) -> str:
        return ingest_url(obj, request=self.context.get("request"))

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({k: "Unknown field; remove it." for k in sorted(unknown)})
        return attrs


class IntegrationWithKeySerializer(IntegrationSerializer):
    """An integration as created or re-keyed: the one answer that carries the key."""

    key = serializers.CharField(read_only=True, help_text="The integration key, shown this once.")

    class Meta(IntegrationSerializer.Meta):
        fields = [*IntegrationSerializer.Meta.fields, "key"]


@extend_schema_view(
    get=extend_schema(parameters=[
        OpenApiParameter("service", str, description="A service's slug: only its integrations."),
        OpenApiParameter("kind", str, description="events_v2, alertmanager, webhook, heartbeat or opsgenie: only those."),
    ]),
    post=extend_schema(request=IntegrationSerializer, responses={201: IntegrationWithKeySerializer}),
)
class IntegrationList(generics.ListCreateAPIView):
    serializer_class = IntegrationSerializer

    def get_queryset(self):
        qs = alert_queries.integrations_for(self.request.user)
        if service := self.request.query_params.get("service"):
            qs = qs.filter(service__slug=service)
        if kind := self.request.query_params.get("kind"):
            qs = qs.filter(kind=kind)
        return qs

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        integration, key = integration_services.create_integration(
            service=data["service"], kind=data["kind"], name=data["name"], by=request.user,
            severity_map=data.get("severity_map"), interval_seconds=data.get("interval_seconds"),
            grace_seconds=data.get("grace_seconds"),
            **{k: data[k] for k in ("auto_resolve", "enabled", "rate_per_second", "burst") if k in data},
        )
        body = {**self.get_serializer(integration).data, "key": key,
                "endpoint": ingest_url(integration, key, request=request)}
        return Response(body, status=status.HTTP_201_CREATED)


class IntegrationDetail(generics.RetrieveUpdateAPIView):
    serializer_class = IntegrationSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return alert_queries.integrations_for(self.request.user)

    def perform_update(self, serializer):
        changes = {k: v for k, v in serializer.validated_data.items() if k not in ("service", "kind")}
        serializer.instance = integration_services.update_integration(
            integration=serializer.instance, by=self.request.user, **changes
        )


@extend_schema(request=None, responses={200: IntegrationWithKeySerializer})
class RotateKey(generics.GenericAPIView):
    """Replace the key; the answer carries the new one, shown once."""

    serializer_class = IntegrationSerializer

    def post(self, request, pk):
        integration = get_object_or_404(alert_queries.integrations_for(request.user), pk=pk)
        # The service updates key_prefix on this instance: no reload needed.
        key = integration_services.rotate_integration_key(integration=integration, by=request.user)
        body = {**IntegrationSerializer(integration, context={"request": request}).data,
                "key": key, "endpoint": ingest_url(integration, key, request=request)}
        return Response(body)


class AlertIntegrationSerializer(serializers.ModelSerializer):
    """An alert's integration, expanded: API.md references it by ``id`` (names are not unique)."""

    class Meta:
        model = Integration
        fields = ["id", "name", "kind"]


class AlertSerializer(serializers.ModelSerializer):
    integration = AlertIntegrationSerializer(read_only=True)
    service = serializers.CharField(source="integration.service.slug")
    incident = serializers.CharField(source="incident.number", allow_null=True, default=None)
    suppressed = serializers.BooleanField()

    class Meta:
        model = Alert
        fields = ["id", "service", "integration", "incident", "dedup_key", "status", "summary", "source",
                  "severity", "component", "group", "details", "labels", "annotations", "unknown_fields",
                  "links", "images",
                  "runbook_url", "generator_url", "suppressed", "started_at", "received_at",
                  "last_seen_at", "resolved_at"]


@extend_schema(parameters=[
    OpenApiParameter("service", str, description="A service's slug: only its alerts."),
    OpenApiParameter("incident", str, description="An incident's number: only its alerts."),
    OpenApiParameter("status", str, description="firing or resolved: only those."),
    OpenApiParameter("integration", str, description="An integration's id: only its alerts."),
])
class AlertList(generics.ListAPIView):
    serializer_class = AlertSerializer

    def get_queryset(self):
        qs = alert_queries.alerts_for_user(self.request.user)
        params = self.request.query_params
        if service := params.get("service"):
            qs = qs.filter(integration__service__slug=service)
        if incident := params.get("incident"):
            qs = qs.filter(incident__number=incident)
        if state := params.get("status"):
            qs = qs.filter(status=state)
        if integration := params.get("integration"):
            qs = qs.filter(integration_id=parse_id(integration) or 0)  # no such id: no alerts
        return qs


urlpatterns = [
    path("integrations/", IntegrationList.as_view(), name="integration-list"),
    path("integrations/<id:pk>/", IntegrationDetail.as_view(), name="integration-detail"),
    path("integrations/<id:pk>/rotate-key/", RotateKey.as_view(), name="integration-rotate-key"),
    path("alerts/", AlertList.as_view(), name="alert-list"),
]
