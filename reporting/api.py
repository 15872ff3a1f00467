"""The metrics API and its CSV (../shared/API.md, "Reports"). Mounted under /api/v1/ (config/urls.py).

Both read ``reporting.metrics.metrics`` through the same query form, so they agree figure for figure;
each row carries ``incidents_url``, the incident list API asking for the incidents behind it.
"""

import csv
from datetime import UTC
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Category

from .forms import MetricsQueryForm
from .metrics import API_FIELDS, DURATIONS, GROUPS, ROW_FIELDS, incidents_query, metrics

PARAMETERS = [
    OpenApiParameter("since", str, description="ISO 8601 date or time: incidents created from then (inclusive); "
                                               "default 30 days before until. Without an offset, read in tz."),
    OpenApiParameter("until", str, description="ISO 8601 date or time: created before then (exclusive); default now."),
    OpenApiParameter("team", str, description="Slug of one of your teams."),
    OpenApiParameter("service", str, description="Slug of a service of your teams."),
    OpenApiParameter("severity", str, enum=["SEV1", "SEV2", "SEV3", "SEV4"]),
    OpenApiParameter("category", str, enum=Category.values, description="Only incidents of this category."),
    OpenApiParameter("exclude_category", str,
                     description=f"Categories left out (drills, tests), separated by commas: {', '.join(Category.values)}."),
    OpenApiParameter("group_by", str, enum=list(GROUPS), description="One row per group; without it, one row."),
    OpenApiParameter("tz", str, description="IANA time zone months are cut in; default the team's zone when team is "
                                            "given, else the server's TIME_ZONE."),
]

BAD = OpenApiResponse(description="A bad parameter, named in the answer.")

_INTEGERS = {"incidents", "never_acknowledged", "never_resolved", "ack_sla_breached", "resolve_sla_breached",
             "escalated", "repeat_incidents", "postmortems_due", "postmortems_published_on_time", "postmortems_late",
             "action_items_open", "action_items_done", "action_items_total",
             *(f"{prefix}_count" for prefix, _ in DURATIONS)}


def _field(name: str) -> serializers.Field:
    if name == "key":
        return serializers.CharField(allow_null=True, help_text="The group: a severity, team or service slug, "
                                                                "category, month (YYYY-MM) or 'all'.")
    if name in _INTEGERS:
        return serializers.IntegerField()
    return serializers.FloatField(allow_null=True)


MetricsRow = type("MetricsRow", (serializers.Serializer,), {
    **{name: _field(name) for name in ROW_FIELDS},
    "incidents_url": serializers.URLField(allow_null=True, help_text="The incident list API for this row's incidents."),
})


class MetricsReport(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True, help_text="Always null: every row comes in one answer.")
    previous = serializers.URLField(allow_null=True, help_text="Always null.")
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    tz = serializers.CharField()
    group_by = serializers.CharField(allow_null=True)
    results = MetricsRow(many=True)


def _report(request):
    """(form, rows with their incidents_url) for the request's query; 400 naming a bad parameter."""
    form = MetricsQueryForm(request.query_params, user=request.user)
    if not form.is_valid():
        raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
    scope, group_by = form.scope(), form.grouping
    rows = metrics(user=request.user, scope=scope, group_by=group_by)
    base = request.build_absolute_uri(reverse("api-incidents"))
    for row in rows:
        query = incidents_query(scope, group_by, row["key"])
        row["incidents_url"] = f"{base}?{urlencode(query)}" if query is not None else None
    return form, rows


class Metrics(APIView):
    @extend_schema(operation_id="v1_reports_metrics",
                   summary="Incident metrics: MTTx, target compliance, escalations, postmortems, action items",
                   parameters=PARAMETERS, responses={200: MetricsReport, 400: BAD})
    def get(self, request):
        form, rows = _report(request)
        scope = form.scope()
        return Response({"count": len(rows), "next": None, "previous": None,
                         "since": scope.since.astimezone(UTC), "until": scope.until.astimezone(UTC), "tz": scope.tz.key,
                         "group_by": form.grouping, "results": rows})


class MetricsCSV(APIView):
    @extend_schema(operation_id="v1_reports_metrics_csv",
                   summary="The incident metrics as CSV: one line per row, the JSON's fields as columns",
                   parameters=PARAMETERS,
                   responses={(200, "text/csv"): OpenApiResponse(
                       str, description=f"Columns: {', '.join(API_FIELDS)}, then the additional ones."), 400: BAD})
    def get(self, request):
        form, rows = _report(request)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="vigil-metrics-{form.grouping or "all"}.csv"'
        columns = [*ROW_FIELDS, "incidents_url"]
        writer = csv.writer(response)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[name] is None else row[name] for name in columns])
        return response


urlpatterns = [
    path("reports/metrics/", Metrics.as_view(), name="api-reports-metrics"),
    path("reports/metrics.csv", MetricsCSV.as_view(), name="api-reports-metrics-csv"),
]
