"""Incident checklist API: /api/v1/incidents/{number}/checklist/ and ticking one item."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from config.api import JSONTypes

from ..models import ChecklistItem
from ..queries import checklist
from ..services import tick_checklist_item
from .views import NUMBER, IncidentSubresource


class ChecklistItemSerializer(JSONTypes, serializers.ModelSerializer):
    done = serializers.BooleanField(read_only=True)
    auto = serializers.ChoiceField(
        choices=ChecklistItem._meta.get_field("auto").choices, allow_blank=True, read_only=True,
        help_text="What Vigil ticks the item on by itself; empty when only people tick it.")
    done_by = serializers.SerializerMethodField(
        help_text="Username of who ticked it; null when Vigil ticked it itself, or when not done.")

    class Meta:
        model = ChecklistItem
        fields = ["id", "phase", "position", "text", "auto", "done", "done_at", "done_by"]
        read_only_fields = fields

    def get_done_by(self, item) -> str | None:
        return item.done_by.username if item.done_by else None


class TickSerializer(serializers.Serializer):
    done = serializers.BooleanField(help_text="true ticks the item, false unticks it.")


@extend_schema(summary="An incident's checklist, the during items then the after items", parameters=[NUMBER])
class IncidentChecklist(IncidentSubresource, generics.ListAPIView):
    serializer_class = ChecklistItemSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return ChecklistItem.objects.none()
        return checklist(self.incident)


@extend_schema(summary="Tick or untick a checklist item",
               parameters=[NUMBER, OpenApiParameter("id", int, OpenApiParameter.PATH)],
               request=TickSerializer, responses={200: ChecklistItemSerializer})
class IncidentChecklistItem(IncidentSubresource, generics.GenericAPIView):
    serializer_class = TickSerializer
    filter_backends: list = []

    def post(self, request, number, id):  # noqa: A002 - the URL's name
        data = TickSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = ChecklistItem.objects.filter(incident=self.incident, pk=id).first()
        if item is None:
            raise NotFound(f"No checklist item {id} on {self.incident.number}; GET its checklist/ for their ids.")
        item = tick_checklist_item(item=item, by=request.user, done=data.validated_data["done"])
        return Response(ChecklistItemSerializer(item).data)


urlpatterns = [
    path("incidents/<str:number>/checklist/", IncidentChecklist.as_view(), name="api-incident-checklist"),
    path("incidents/<str:number>/checklist/<id:id>/", IncidentChecklistItem.as_view(),
         name="api-incident-checklist-item"),
]
