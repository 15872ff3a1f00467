"""Forms for the integration and maintenance pages; views pass the cleaned data to services."""

import json

from django import forms

from oncall.forms import LocalDateTimeField

from .models import IntegrationKind
from .models.alert import DEFAULT_SEVERITY_MAP


class SeverityMapField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return {}
        try:
            data = json.loads(value)
        except ValueError:
            raise forms.ValidationError('Give JSON such as {"critical": "SEV1", "warning": "SEV3"}.') from None
        if not isinstance(data, dict):
            raise forms.ValidationError('Give a JSON object such as {"critical": "SEV1"}.')
        return data

    def prepare_value(self, value):
        return json.dumps(value) if isinstance(value, dict) else value


class IntegrationForm(forms.Form):
    kind = forms.ChoiceField(choices=IntegrationKind.choices)
    name = forms.CharField(max_length=120)
    severity_map = SeverityMapField(
        required=False, help_text=f"Optional. Default: {json.dumps(DEFAULT_SEVERITY_MAP)}"
    )
    interval_seconds = forms.IntegerField(min_value=1, required=False, help_text="Heartbeats: expected every N seconds.")
    grace_seconds = forms.IntegerField(min_value=0, required=False, help_text="Heartbeats: extra time allowed.")

    def clean(self):
        data = super().clean()
        if data.get("kind") == IntegrationKind.HEARTBEAT and not data.get("interval_seconds"):
            self.add_error("interval_seconds", "A heartbeat needs an interval.")
        return data


class IntegrationSettingsForm(forms.Form):
    name = forms.CharField(max_length=120)
    enabled = forms.BooleanField(required=False)
    auto_resolve = forms.BooleanField(
        required=False, help_text="Alertmanager and Grafana: resolve the incident when all its alerts resolve."
    )
    severity_map = SeverityMapField(required=False)
    rate_per_second = forms.IntegerField(min_value=1)
    burst = forms.IntegerField(min_value=1)
    interval_seconds = forms.IntegerField(min_value=1, help_text="A ping is expected every N seconds.")
    grace_seconds = forms.IntegerField(min_value=0, help_text="Extra time allowed before an incident opens.")

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if kind != IntegrationKind.HEARTBEAT:
            del self.fields["interval_seconds"], self.fields["grace_seconds"]


class MaintenanceWindowForm(forms.Form):
    # In the reader's time zone, within the dates that can be stored and read back.
    starts_at = LocalDateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = LocalDateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=255, required=False)

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The window must end after it starts.")
        return data
