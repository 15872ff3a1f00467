"""Forms of "Notification settings" (/paging/me/). They validate what was typed; the views call the services,
which check meaning (an address for its kind, a verified method) and say what to fix."""

from django import forms

from incidents.models import Service, Severity
from oncall.models import Team

from ..models import ContactMethod, Urgency

WEEKDAY_CHOICES = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class _ProfileForm(forms.Form):
    """The page shows several forms at once: ids named after the form (id_method_kind, id_rule_urgency)."""

    prefix_id = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.prefix_id}_%s")
        super().__init__(*args, **kwargs)


class ContactMethodForm(_ProfileForm):
    prefix_id = "method"
    kind = forms.ChoiceField(choices=ContactMethod.Kind.choices)
    address = forms.CharField(
        max_length=500,
        help_text="E-mail address; phone number with + and country code (SMS, voice); Slack member id (U…) or "
                  "https://hooks.slack.com/ URL; https:// URL for a webhook.",
    )
    label = forms.CharField(max_length=60, required=False, help_text="Optional, such as \"work phone\".")


class VerifyForm(forms.Form):
    code = forms.CharField(max_length=20)


class RuleForm(_ProfileForm):
    prefix_id = "rule"
    urgency = forms.ChoiceField(choices=Urgency.choices)
    contact_method = forms.ModelChoiceField(queryset=ContactMethod.objects.none(), empty_label=None,
                                            help_text="Only verified methods can page you.")
    delay_minutes = forms.IntegerField(min_value=0, max_value=1440, initial=0, label="After (minutes)",
                                       help_text="0 is at once; up to 1440 (a day), if still unacknowledged.")

    def __init__(self, *args, methods, **kwargs):
        """``methods``: the person's verified contact methods (a queryset)."""
        super().__init__(*args, **kwargs)
        self.fields["contact_method"].queryset = methods


class WorkingHoursForm(_ProfileForm):
    prefix_id = "hours"
    hold_low_urgency = forms.BooleanField(required=False, label="Hold low-urgency pages until my working hours")
    work_days = forms.TypedMultipleChoiceField(choices=WEEKDAY_CHOICES, coerce=int, required=False,
                                               widget=forms.CheckboxSelectMultiple, label="Working days")
    work_start = forms.TimeField(required=False, widget=TIME_INPUT, label="From")
    work_end = forms.TimeField(required=False, widget=TIME_INPUT, label="Until",
                               help_text="An end before the start runs past midnight (22:00 until 06:00).")


class SubscriptionForm(_ProfileForm):
    """A team or a service (one choice, "team:<slug>" or "service:<slug>"), from a minimum severity."""

    prefix_id = "sub"
    target = forms.ChoiceField(label="Team or service")
    min_severity = forms.ModelChoiceField(queryset=Severity.objects.order_by("rank"), empty_label=None,
                                          to_field_name="name", label="From severity",
                                          help_text="Told of incidents this severe or worse.")

    def __init__(self, *args, teams, services, **kwargs):
        """``teams`` and ``services``: those the person can see (lists, already read)."""
        super().__init__(*args, **kwargs)
        self.teams = {t.slug: t for t in teams}
        self.services = {s.slug: s for s in services}
        self.fields["target"].choices = [
            ("Teams", [(f"team:{t.slug}", t.name) for t in teams]),
            ("Services", [(f"service:{s.slug}", f"{s.name} ({s.team.name})") for s in services]),
        ]

    def clean_target(self) -> Team | Service:
        kind, _, slug = self.cleaned_data["target"].partition(":")
        found = (self.teams if kind == "team" else self.services).get(slug)
        if found is None:  # the choice list already refuses this; kept for clarity
            raise forms.ValidationError("Choose one of your teams or their services.")
        return found


class SlackIdForm(_ProfileForm):
    prefix_id = "slack"
    slack_user_id = forms.CharField(max_length=32, required=False, label="Slack member id",
                                    help_text="In Slack: your profile, ⋮, Copy member ID (U… or W…). Empty to unlink.")
