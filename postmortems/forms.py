"""Browser forms of postmortems and action items. They validate; the views call the services."""

from django import forms
from django.core.exceptions import ValidationError

from core.forms import local_moment
from core.text import validate_one_line
from incidents.forms import apply_service_errors

from .models import ActionItemStatus, Priority, TrackerKind

__all__ = ["apply_service_errors"]


def person_label(user) -> str:
    return f"{user.display_name} ({user.username})" if user.display_name != user.username else user.username


class PeopleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


class PeopleMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


class Form(forms.Form):
    """Labels without a trailing colon; ``prefix_ids`` keeps ids unique beside the page's other forms."""

    prefix_ids = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        if self.prefix_ids:
            kwargs.setdefault("auto_id", f"id_{self.prefix_ids}_%s")
        super().__init__(*args, **kwargs)


def _text(label: str, help_text: str = "", rows: int = 4) -> forms.CharField:
    return forms.CharField(label=label, required=False, help_text=help_text, strip=False,
                           widget=forms.Textarea(attrs={"rows": rows}))


class PostmortemForm(Form):
    """The document, in the template's order. ``version`` is the one the editor started from."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    owner = PeopleChoiceField(queryset=None, required=False, empty_label="Nobody yet",
                              help_text="Its author, who sees it through. Someone else approves it.")
    due_at = local_moment(label="Due", required=False, help_text="When it should be published (your time).")
    summary = _text("Summary", "What happened, in a few sentences. Markdown.")
    impact = _text("Impact", "Who and what was affected, and how.")
    users_affected = forms.IntegerField(label="Users affected", required=False, min_value=0, max_value=2**31 - 1)
    revenue_impact = forms.DecimalField(label="Revenue impact", required=False, min_value=0, max_digits=14,
                                        decimal_places=2)
    budget_consumed = forms.CharField(label="SLA / error budget consumed", required=False, max_length=200,
                                      validators=[validate_one_line],
                                      help_text="e.g. 38% of the monthly error budget")
    root_cause = _text("Root cause")
    detection = _text("Detection: how was it detected?", rows=3)
    detection_sooner = _text("Could it have been detected sooner? How?", rows=3)
    response = _text("Response: how did it go?", rows=3)
    went_well = _text("What went well", rows=3)
    to_improve = _text("What could improve", rows=3)
    lessons = _text("Lessons learned")
    key_events = forms.TypedMultipleChoiceField(label="Key events", required=False, coerce=int,
                                                widget=forms.CheckboxSelectMultiple,
                                                help_text="Tick the events that tell the story.")

    def __init__(self, *args, people, events, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people
        self.fields["key_events"].choices = [(e.pk, str(e.pk)) for e in events]


class ActionItemForm(Form):
    prefix_ids = "item"

    title = forms.CharField(max_length=200, validators=[validate_one_line])
    owner = PeopleChoiceField(queryset=None, required=False, empty_label="Nobody yet")
    due_at = local_moment(label="Due", required=False)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.P2)
    success_criteria = forms.CharField(label="Success criteria", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text="How we will know it is done.")

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people


class ActionItemStatusForm(Form):
    prefix_ids = "status"

    status = forms.ChoiceField(choices=ActionItemStatus.choices, label="Change it to")
    reason = forms.CharField(label="Reason (for won't do)", required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("status") == ActionItemStatus.WONT_DO and not data.get("reason", "").strip():
            self.add_error("reason", "Say why it won't be done: the reason stays with the item.")
        return data


class TransitionForm(Form):
    note = forms.CharField(required=False, max_length=500)


class FactorForm(Form):
    prefix_ids = "factor"

    tag = forms.ModelChoiceField(queryset=None, empty_label="Choose a tag")
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = tags


class EventForm(Form):
    prefix_ids = "event"

    at = local_moment(label="When", help_text="Your time.")
    summary = forms.CharField(label="What happened", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewersForm(Form):
    prefix_ids = "reviewers"

    reviewers = PeopleMultipleChoiceField(queryset=None, help_text="Anyone but the owner; one approval publishes.")

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = people


class MeetingForm(Form):
    """The review meeting: when (in the reader's zone, named in the label), how long, where, who."""

    prefix_ids = "meeting"

    starts_at = local_moment(label="Starts")
    duration_minutes = forms.IntegerField(label="Minutes", min_value=15, max_value=8 * 60, initial=60)
    location = forms.CharField(label="Where", required=False, max_length=300, validators=[validate_one_line],
                               help_text="A room, or a video-call link.")
    attendees = PeopleMultipleChoiceField(
        queryset=None, label="Invite",
        help_text="People who may see the incident; each gets a calendar invitation by e-mail.")

    def __init__(self, *args, people, zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].label = f"Starts (your time, {zone})"
        self.fields["attendees"].queryset = people


class CloseAnywayForm(Form):
    prefix_ids = "override"

    reason = forms.CharField(label="Why close it without the published postmortem?", max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class FactorTagForm(Form):
    prefix_ids = "tag"

    team = forms.ModelChoiceField(queryset=None, empty_label=None)
    name = forms.CharField(max_length=60, validators=[validate_one_line])
    description = forms.CharField(required=False, max_length=200, validators=[validate_one_line])

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class PostmortemFilterForm(Form):
    SCOPES = [("all", "All I can see"), ("team", "My teams'"), ("mine", "Mine (I own or review)")]

    scope = forms.ChoiceField(choices=SCOPES, required=False, initial="all")
    status = forms.ChoiceField(choices=[("", "Any status"), ("unpublished", "Not published"),
                                        ("draft", "Draft"), ("in_review", "In review"), ("published", "Published")],
                               required=False)


def form_errors(exc: ValidationError) -> str:
    """A service's refusal as one line for a message."""
    return " ".join(exc.messages)


class TrackerForm(Form):
    """A team's issue tracker. The token is write-only: never shown back; left empty on an edit, it is kept."""

    prefix_ids = "tracker"

    name = forms.CharField(max_length=80, validators=[validate_one_line], help_text="e.g. Payments backlog")
    kind = forms.ChoiceField(choices=TrackerKind.choices)
    base_url = forms.URLField(label="API base URL", max_length=300, assume_scheme="https",
                              help_text="https://api.github.com, https://gitlab.com (or your GitLab), "
                                        "https://your-site.atlassian.net")
    project = forms.CharField(max_length=200, validators=[validate_one_line],
                              help_text="GitHub: owner/repository. GitLab: the project's id or group/path. "
                                        "Jira: the project key, e.g. OPS.")
    username = forms.CharField(label="Username", max_length=200, required=False, validators=[validate_one_line],
                               help_text="Jira Cloud: the e-mail of the token's account. Otherwise leave empty.")
    token = forms.CharField(max_length=500, required=False, strip=True,
                            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                            help_text="An API token allowed to create issues in the project. Never shown again.")
    active = forms.BooleanField(required=False, initial=True, label="Offer it on action items")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["token"].help_text = "Leave empty to keep the stored token; type a new one to replace it."

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not token and not self.editing:
            raise ValidationError("Give an API token allowed to create issues in the project.")
        return token


class SendForm(Form):
    prefix_ids = "send"

    tracker = forms.ModelChoiceField(queryset=None, empty_label=None, label="Tracker")

    def __init__(self, *args, trackers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tracker"].queryset = trackers
