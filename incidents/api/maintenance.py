"""Maintenance windows API: /api/v1/maintenance-windows/."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from config.api import JSONTypes

from ..models import MaintenanceWindow, Service
from ..queries import maintenance_windows_for_user, services_for
from ..services import create_maintenance_window


class MaintenanceWindowSerializer(JSONTypes, serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.none())
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "service", "starts_at", "ends_at", "reason", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["service"].queryset = services_for(request.user)


@extend_schema_view(get=extend_schema(parameters=[
    OpenApiParameter("service", str, description="A service's slug: only its windows."),
]))
class MaintenanceWindowList(generics.ListCreateAPIView):
    serializer_class = MaintenanceWindowSerializer

    def get_queryset(self):
        qs = maintenance_windows_for_user(self.request.user)
        if service := self.request.query_params.get("service"):
            qs = qs.filter(service__slug=service)
        return qs

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The service refuses anyone who may not manage the team (403).
        window = create_maintenance_window(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(window).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("maintenance-windows/", MaintenanceWindowList.as_view(), name="maintenance-window-list"),
]
