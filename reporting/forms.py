"""The query of a report, as the API, the CSV and the pages take it."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.forms import LocalDateTimeField
from incidents.models import Category, Service, Severity
from oncall.models import Team

from .metrics import DEFAULT_PERIOD, GROUPS, Scope

BAD_TIME = ("Give an ISO 8601 date or time, e.g. 2026-01-31 or 2026-01-31T09:00:00Z (a date or a time without "
            "an offset is read in tz; URL-encode the + of an offset).")


def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name and "\x00" not in name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


class MetricsQueryForm(forms.Form):
    """``since``/``until`` (default: the last 30 days), ``team``, ``service``, ``severity``, ``category``,
    ``exclude_category`` (comma-separated, or repeated), ``group_by`` and ``tz``.

    Teams and services are chosen among the caller's, so another team's slug gets the same 400 as one
    that does not exist. ``tz`` (an IANA name) cuts months and reads dates given without an offset; by
    default the zone of ``team`` when one is given, else the server's ``TIME_ZONE``.
    """

    since = LocalDateTimeField(required=False, error_messages={"invalid": BAD_TIME},
                               help_text="Incidents created from then (inclusive).")
    until = LocalDateTimeField(required=False, error_messages={"invalid": BAD_TIME},
                               help_text="Incidents created before then (exclusive); default now.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), to_field_name="slug", required=False,
                                  error_messages={"invalid_choice": "Unknown team; use the slug of one of your teams."})
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), to_field_name="slug", required=False,
        error_messages={"invalid_choice": "Unknown service; use the slug of a service of your teams."})
    severity = forms.ModelChoiceField(
        queryset=Severity.objects.all(), to_field_name="name", required=False,
        error_messages={"invalid_choice": "Unknown severity; use SEV1, SEV2, SEV3 or SEV4."})
    category = forms.ChoiceField(choices=[("", "any"), *Category.choices], required=False)
    exclude_category = forms.CharField(required=False, help_text="Categories left out, separated by commas.")
    group_by = forms.ChoiceField(choices=[("", "nothing"), *((g, g) for g in GROUPS)], required=False,
                                 error_messages={"invalid_choice": f"Group by one of {', '.join(GROUPS)}."})
    tz = forms.CharField(required=False, help_text="IANA time zone, e.g. Europe/Berlin.")

    def __init__(self, data, *, user, now=None):
        if hasattr(data, "getlist") and len(data.getlist("exclude_category")) > 1:
            data = data.copy()
            data["exclude_category"] = ",".join(data.getlist("exclude_category"))
        super().__init__(data)
        self.now = now or timezone.now()
        self.fields["team"].queryset = Team.objects.visible_to(user)
        self.fields["service"].queryset = Service.objects.visible_to(user)
        # Dates without an offset are read in the report's zone: that of tz, else of the team, else the server's.
        chosen = zone(str(self.data.get("tz") or ""))
        if chosen is None and self.data.get("team"):
            team = Team.objects.visible_to(user).filter(slug=str(self.data["team"])).only("timezone").first()
            chosen = zone(team.timezone) if team is not None else None
        self.zone = chosen or ZoneInfo(settings.TIME_ZONE)
        for name in ("since", "until"):
            self.fields[name].zone = self.zone

    def clean_tz(self):
        name = self.cleaned_data["tz"].strip()
        if name and zone(name) is None:
            raise ValidationError("Unknown time zone; give an IANA name such as Europe/Berlin or UTC.")
        return name

    def clean_exclude_category(self):
        names = [n.strip() for n in self.cleaned_data["exclude_category"].split(",") if n.strip()]
        unknown = [n for n in names if n not in Category.values]
        if unknown:
            raise ValidationError(f"Unknown category {unknown[0]!r}; use any of {', '.join(Category.values)}.")
        return tuple(dict.fromkeys(names))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        until = data.get("until") or self.now
        since = data.get("since") or until - DEFAULT_PERIOD
        if since >= until:
            self.add_error("since", "since must be before until.")
        data["since"], data["until"] = since, until
        return data

    def scope(self) -> Scope:
        data = self.cleaned_data
        return Scope(since=data["since"], until=data["until"], tz=self.zone, team=data["team"],
                     service=data["service"], severity=data["severity"], category=data["category"] or None,
                     exclude_categories=data["exclude_category"])

    @property
    def grouping(self) -> str | None:
        return self.cleaned_data["group_by"] or None
