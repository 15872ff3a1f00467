"""Forms for the integration and maintenance pages; views pass the cleaned data to services."""

import json

from django import forms

from .models import DEFAULT_SEVERITY_MAP, IntegrationKind


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
