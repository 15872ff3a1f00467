"""Query-parameter filters for incident and service lists.

Team and service filters choose only among what the caller may see, so a
foreign slug gets the same 400 as one that does not exist.
"""

import django_filters as filters

from core.forms import InstantField
from oncall.models import Team

from ..models import Category, Incident, IncidentStatus, Service, Severity


def _visible_teams(request):
    user = getattr(request, "user", None)
    return Team.objects.visible_to(user) if user is not None else Team.objects.none()


def _visible_services(request):
    user = getattr(request, "user", None)
    return Service.objects.visible_to(user) if user is not None else Service.objects.none()


UNKNOWN_TEAM = "Unknown team %(value)s; use the slug of one of your teams."
BAD_TIME = "Give an ISO 8601 date or time, e.g. 2026-01-31 or 2026-01-31T09:00:00Z (URL-encode the + of an offset)."


class InstantFilter(filters.DateTimeFilter):
    """A date or instant checked as bodies check theirs (``core.forms.InstantField``)."""

    field_class = InstantField


class ChoiceInFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """``?status=triggered,acknowledged``: any of several choices."""


class IncidentFilter(filters.FilterSet):
    status = ChoiceInFilter(
        choices=IncidentStatus.choices,
        help_text="One status or several separated by commas, e.g. triggered,acknowledged.",
    )
    severity = filters.ModelChoiceFilter(
        queryset=Severity.objects.all(), to_field_name="name", help_text="SEV1 .. SEV4.",
        error_messages={"invalid_choice": "Unknown severity %(value)s; use SEV1, SEV2, SEV3 or SEV4."},
    )
    team = filters.ModelChoiceFilter(
        queryset=_visible_teams, to_field_name="slug", help_text="Slug of one of your teams.",
        error_messages={"invalid_choice": UNKNOWN_TEAM},
    )
    service = filters.ModelChoiceFilter(
        field_name="services", queryset=_visible_services, to_field_name="slug",
        help_text="Slug of an affected service.",
        error_messages={"invalid_choice": "Unknown service %(value)s; use the slug of a service of your teams."},
    )
    category = ChoiceInFilter(
        choices=Category.choices, help_text="One category or several separated by commas, e.g. outage,degradation.",
    )
    exclude_category = ChoiceInFilter(
        field_name="category", choices=Category.choices, exclude=True,
        help_text="Categories left out, separated by commas (drills, tests).",
    )
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", error_messages={"invalid": BAD_TIME},
        help_text="ISO 8601 date or time, e.g. 2026-01-31T09:00:00Z (inclusive).",
    )
    created_before = InstantFilter(
        field_name="created_at", lookup_expr="lt", error_messages={"invalid": BAD_TIME},
        help_text="ISO 8601 date or time (exclusive).",
    )
    q = filters.CharFilter(method="search", help_text="Words in the title, number or description (all of them).")

    class Meta:
        model = Incident
        fields = ["status", "severity", "team", "service", "category", "exclude_category", "created_after",
                  "created_before", "q"]

    def search(self, queryset, name, value):
        return queryset.search(value)  # the list page's search too


class ServiceFilter(filters.FilterSet):
    team = filters.ModelChoiceFilter(
        queryset=_visible_teams, to_field_name="slug", help_text="Slug of one of your teams.",
        error_messages={"invalid_choice": UNKNOWN_TEAM},
    )

    class Meta:
        model = Service
        fields = ["team"]
