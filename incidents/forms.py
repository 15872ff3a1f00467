"""Browser forms for incidents. They only validate; the views hand the cleaned data to services."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from core.forms import LocalDateTimeField, local_moment
from oncall.models import EscalationPolicy, Team, User

from .drafts import draft_kinds
from .models import Category, IncidentStatus, RoleAssignment, Service, Severity, StatusUpdate
from .queries import services_for
from .services.maintenance import check_window


class _DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self):
        super().__init__(format="%Y-%m-%dT%H:%M")


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class _Form(forms.Form):
    """Labels without a trailing colon: they sit above their fields."""

    # Set where a page shows two forms with a field of the same name (the incident page's note and
    # update both have ``body``): ids become id_<prefix>_<field>, so each label finds its own field.
    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class _IncidentFieldsForm(_Form):
    title = forms.CharField(max_length=255)
    severity = forms.ModelChoiceField(queryset=Severity.objects.all(), empty_label=None,
                                      help_text="SEV1 is the most severe.")
    category = forms.ChoiceField(choices=Category.choices, initial=Category.OTHER)
    services = forms.ModelMultipleChoiceField(queryset=Service.objects.none(), required=False,
                                              label="Affected services",
                                              widget=forms.SelectMultiple(attrs={"size": 5}))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    impact = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             help_text="What users experience, in plain words.")
    # In the reader's zone (config.middleware.ReaderTimeZone), and within the dates that can be read back.
    started_at = LocalDateTimeField(required=False, widget=_DateTimeLocalInput(),
                                    label="Impact started at",
                                    help_text="In your time zone; leave empty if unknown.")
    users_affected = forms.IntegerField(required=False, min_value=0)
    revenue_impact = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    customer_facing = forms.BooleanField(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = services_for(user)


class IncidentCreateForm(_IncidentFieldsForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none())

    field_order = ["title", "severity", "category", "team", "services"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        # No default severity: declaring a SEV1 by accident pages people at night.
        self.fields["severity"].empty_label = "Choose a severity"
        teams = Team.objects.visible_to(user).distinct()
        self.fields["team"].queryset = teams
        # Most people are in one team: choose it for them.
        if not self.is_bound and len(teams) == 1:
            self.fields["team"].initial = teams[0].pk


class QuickDeclareForm(_Form):
    """The dashboard's short declare form: what, how bad, whose, and whether the declarer takes command."""

    id_prefix = "quick"
    title = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"placeholder": "What is broken?"}))
    severity = forms.ModelChoiceField(queryset=Severity.objects.all(), empty_label="Choose a severity")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label="Choose a team")
    commander = forms.BooleanField(required=False, initial=True, label="I'm the commander",
                                   help_text="You command it, and it starts acknowledged by you.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.visible_to(user).distinct()
        self.fields["team"].queryset = teams
        # Most people are in one team: choose it for them.
        if not self.is_bound and len(teams) == 1:
            self.fields["team"].initial = teams[0].pk


class IncidentEditForm(_IncidentFieldsForm):
    root_cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                 help_text="What caused it, once known; updates can quote it.")
    resolution_summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                         help_text="How it was resolved.")
    reason = forms.CharField(max_length=100, required=False, help_text="Why, for the timeline.")


class TransitionForm(_Form):
    note = forms.CharField(max_length=100, required=False)


class NoteForm(_Form):
    id_prefix = "note"
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Note")


NEXT_UPDATE_CHOICES = [("", "No promise"), ("15", "in 15 minutes"), ("30", "in 30 minutes"),
                       ("60", "in 1 hour"), ("120", "in 2 hours"), ("240", "in 4 hours"), ("1440", "in 1 day")]


class StatusUpdateForm(_Form):
    """A stakeholder update. "Fill from template" (the ``fill`` button) puts the chosen template's draft in
    the text box instead of posting; ``next_update_in`` promises the next update (a reminder follows)."""

    id_prefix = "update"
    state = forms.ChoiceField(choices=StatusUpdate.State.choices)
    template = forms.ChoiceField(required=False, label="Start from a template",
                                 help_text="Choose one, then “Fill from template”; edit the text before posting.")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Update", required=False)
    public = forms.BooleanField(required=False, help_text='Show it on the <a href="/status/">public status page</a>.')
    next_update_in = forms.TypedChoiceField(choices=NEXT_UPDATE_CHOICES, required=False, coerce=int,
                                            empty_value=None, label="Next update",
                                            help_text="You (or the commander) are reminded if it passes without one.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = draft_kinds()
        self.fields["template"].choices = [("", "—"), *kinds]
        if not kinds:
            del self.fields["template"]


class ResolveForm(_Form):
    """Resolving from the incident page: what fixed it, and the resolution update, prefilled."""

    id_prefix = "resolve"
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Resolution summary",
                              help_text="What fixed it, for the timeline and the postmortem.")
    root_cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Root cause",
                                 help_text="If known; the postmortem goes deeper.")
    post_update = forms.BooleanField(required=False, label="Post the resolution update")
    update_body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                  label="Resolution update")
    update_public = forms.BooleanField(required=False, label="Public",
                                       help_text='Show it on the <a href="/status/">public status page</a>.')

    def clean(self):
        data = super().clean()
        if data.get("post_update") and not (data.get("update_body") or "").strip():
            self.add_error("update_body", "Write the update, or untick “Post the resolution update”.")
        return data


class RoleForm(_Form):
    role = forms.ChoiceField(choices=RoleAssignment.Role.choices,
                             help_text="A filled role changes hands; experts accumulate.")
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person")

    def __init__(self, *args, team, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The incident's team, and anyone already responding to it (a paged expert from another team).
        people = Q(memberships__team=team)
        if incident is not None:
            people |= Q(responding__incident=incident)
        self.fields["user"].queryset = User.objects.filter(people, is_active=True).distinct().order_by("full_name", "username")


class IncidentFilterForm(_Form):
    q = forms.CharField(required=False, label="Search",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search number, title or description"}))
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), ("open", "Open"),
                                                         *IncidentStatus.choices])
    severity = forms.ModelChoiceField(required=False, queryset=Severity.objects.all(),
                                      to_field_name="name", empty_label="Any severity")
    team = forms.ModelChoiceField(required=False, queryset=Team.objects.none(), to_field_name="slug",
                                  empty_label="Any team")
    service = forms.ModelChoiceField(required=False, queryset=Service.objects.none(), to_field_name="slug",
                                     empty_label="Any service")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.visible_to(user).distinct()
        self.fields["service"].queryset = Service.objects.visible_to(user)
        # The filter bar shows no labels; screen readers still get one.
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-label", str(field.label or name.title()))


class MaintenanceWindowForm(forms.Form):
    # In the reader's time zone, within the dates that can be stored and read back.
    starts_at = local_moment()
    ends_at = local_moment()
    reason = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()  # the reader's (config.middleware.ReaderTimeZone)
        for name in ("starts_at", "ends_at"):
            self.fields[name].help_text = f"In your time zone, {zone}."

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at"):
            try:
                check_window(data["starts_at"], data["ends_at"])  # the services' own check
            except ValidationError as exc:
                apply_service_errors(self, exc)
        return data


class ServicePoliciesForm(_Form):
    """Which of its team's escalation policies a service uses: a default, and one per severity (optional)."""

    escalation_policy = forms.ModelChoiceField(
        queryset=EscalationPolicy.objects.none(), required=False, label="Escalation policy",
        empty_label="The team's default policy",
        help_text="Who is paged for this service's incidents, unless a severity below names another.",
    )

    def __init__(self, *args, service, **kwargs):
        self.severities = list(Severity.objects.order_by("rank"))
        current = {sp.severity_id: sp.policy_id for sp in service.severity_policies.all()}
        kwargs.setdefault("initial", {"escalation_policy": service.escalation_policy_id,
                                      **{f"sev_{s.name}": current.get(s.pk) for s in self.severities}})
        super().__init__(*args, **kwargs)
        policies = EscalationPolicy.objects.filter(team_id=service.team_id).order_by("name")
        self.fields["escalation_policy"].queryset = policies
        for sev in self.severities:
            self.fields[f"sev_{sev.name}"] = forms.ModelChoiceField(
                queryset=policies, required=False, label=f"For {sev.name} incidents",
                empty_label="The service's policy (above)",
            )
        for field in self.fields.values():
            field.label_from_instance = lambda p: f"{p.name} (the team's default)" if p.is_default else p.name

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"escalation_policy": data["escalation_policy"],
                "escalation_policies": {s: data[f"sev_{s.name}"] for s in self.severities if data[f"sev_{s.name}"]}}
