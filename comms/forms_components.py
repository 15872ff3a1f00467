"""The components editor's form (/comms/components/): what a team lead types; ``comms.services`` decides.

The form only parses; the rules (a reason needs an override, only the team's own services, names on one
line) are the service's, shown on their fields with ``incidents.forms.apply_service_errors``.
"""

from django import forms

from incidents.models import Service

from .models import Component, ComponentStatus

DERIVED = ""


class ComponentForm(forms.Form):
    name = forms.CharField(max_length=Component._meta.get_field("name").max_length,
                           help_text="Shown to the public.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="Shown to the public under the name.")
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Open public incidents and active maintenance of these services set the component's status.",
    )
    position = forms.IntegerField(min_value=0, initial=0, help_text="Order on the page, lowest first.")
    status_override = forms.ChoiceField(
        label="Status", required=False, initial=DERIVED,
        choices=[(DERIVED, "Derived from incidents and maintenance"), *ComponentStatus.choices],
        help_text="Set by hand, it is shown as is whatever happens, until you set it back to derived.",
    )
    override_reason = forms.CharField(
        label="Why it is set by hand", required=False,
        max_length=Component._meta.get_field("override_reason").max_length,
        help_text="Internal: never shown to the public. Only with a status set by hand.",
    )

    def __init__(self, *args, team, component: Component | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        if component is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": component.name, "description": component.description,
                "services": [s.pk for s in component.services.all()], "position": component.position,
                "status_override": component.status_override, "override_reason": component.override_reason,
            }
        super().__init__(*args, **kwargs)
        # Only the team's own services can be chosen; another's id is "not one of the available choices".
        self.fields["services"].queryset = Service.objects.filter(team=team).order_by("name", "id")

    def component_fields(self) -> dict:
        """The cleaned data as ``create_component`` / ``update_component`` take it."""
        data = self.cleaned_data
        return {
            "name": data["name"], "description": data["description"], "services": list(data["services"]),
            "position": data["position"], "status_override": data["status_override"],
            "override_reason": data["override_reason"],
        }
