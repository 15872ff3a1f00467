"""Admin for escalation policies: written through ``oncall.services.escalation``, with history.

The steps are edited as JSON in the API's form (usernames, rotation ids, layer
names, team slugs; a team target without an id is the policy's own team) and
translated by the service, which says which step and target it cannot use.
A policy stays with its team once created.
"""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.admin import HistoryAdmin, adopt, service_call
from core.text import refusal, unstorable_text

from .. import services
from ..models import EscalationPolicy
from ..models.escalation import MAX_REPEAT
from ..targets import steps_from_api, steps_to_api

EXAMPLE = '[{"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads"}]}]'


class EscalationPolicyForm(forms.ModelForm):
    # Not the model's field names: the model's own checks of these (the stored shape of the steps, the
    # one-default-per-team constraint) would run on the form's values before the service translates
    # them and un-defaults the previous default.
    steps_json = forms.CharField(
        label="Steps", widget=forms.Textarea(attrs={"rows": 14, "cols": 90}),
        help_text="JSON in the API's form, e.g. " + EXAMPLE + ". Types: user (username), rotation (id), "
                  "layer (a layer of this team), team_leads, team_managers, team (a team's slug; none: this team).",
    )
    repeat = forms.IntegerField(min_value=0, max_value=MAX_REPEAT, initial=0,
                                help_text=f"How many more times the whole list runs after its last step (0–{MAX_REPEAT}).")
    default = forms.BooleanField(required=False, label="The team's default policy",
                                 help_text="Used for incidents whose services name no policy; one per team.")

    class Meta:
        model = EscalationPolicy
        fields = ["team", "name", "description", "repeat"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["steps_json"] = json.dumps(steps_to_api(self.instance.steps), indent=2)
            self.initial["default"] = self.instance.is_default

    def clean_steps_json(self):
        try:
            steps = json.loads(self.cleaned_data["steps_json"])
        except ValueError as exc:
            raise ValidationError(f"Not valid JSON: {exc}") from exc
        if where := unstorable_text(steps, "the steps"):
            raise ValidationError(refusal(where))
        return steps

    def clean(self):
        data = super().clean()
        team = data.get("team") if self.instance.pk is None else self.instance.team
        if team is not None and "steps_json" in data:
            try:
                steps_from_api(data["steps_json"], team)  # what the service would refuse, shown on the field
            except ValidationError as exc:
                for message in exc.message_dict.get("steps", exc.messages):
                    self.add_error("steps_json", message)
        return data


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(HistoryAdmin):
    form = EscalationPolicyForm
    list_display = ["name", "team", "is_default", "repeat", "created_at"]
    list_filter = ["team", "is_default"]
    list_select_related = ["team"]
    search_fields = ["name", "team__name", "team__slug"]
    fields = ["team", "name", "description", "steps_json", "repeat", "default"]

    def get_readonly_fields(self, request, obj=None):
        return ["team"] if obj is not None else []  # its targets (layers, "this team") are the team's

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {"name": data["name"], "description": data["description"], "repeat": data["repeat"],
                  "is_default": data["default"], "steps": data["steps_json"]}
        with service_call():
            if change:
                saved = services.update_policy(policy=obj, by=request.user, reason="changed in the admin", **fields)
            else:
                saved = services.create_policy(team=data["team"], by=request.user, **fields)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        with service_call():
            services.delete_policy(policy=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for policy in queryset.select_related("team"):
            self.delete_model(request, policy)
