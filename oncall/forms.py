"""Browser forms for schedules and escalation policies. They validate; the views call services.

Date-times typed in a browser are local wall-clock readings; the forms place
them in the team's zone (said next to each field), never in the server's.
"""

import re
from zoneinfo import ZoneInfo

from django import forms
from django.utils.timezone import override

from core.forms import LOCAL_FORMATS, LOCAL_INPUT, local_moment
from core.instants import place, range_message, shown

from .models import Rotation, Team, User
from .models.escalation import MAX_DELAY_MINUTES, MAX_REPEAT, MAX_STEPS
from .models.people import validate_timezone
from .models.schedule import parse_shift_length
from .targets import steps_to_api, target_label, target_names

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class _TeamForm(forms.Form):
    def __init__(self, *args, team, **kwargs):
        # The team page shows several of these forms at once, with the same field names: ids
        # named after the form (id_override_start, id_swap_start), so each label finds its field.
        kwargs.setdefault("auto_id", f"id_{type(self).__name__.removesuffix('Form').lower()}_%s")
        super().__init__(*args, **kwargs)
        self.team = team
        self.zone = ZoneInfo(team.timezone)
        members = User.objects.filter(memberships__team=team).order_by("username")
        for name in ("user", "recipient"):
            if name in self.fields:
                self.fields[name].queryset = members
        if "rotation" in self.fields:
            self.fields["rotation"].queryset = Rotation.objects.filter(team=team).select_related("team").order_by("layer", "name")
        for name in ("start", "end"):
            if name in self.fields:
                # Typed in the team's zone, whoever types it.
                self.fields[name].zone = self.zone
                if not self.fields[name].help_text:
                    self.fields[name].help_text = f"Local time in {team.timezone}."

    def clean(self):
        data = super().clean()
        if "start" in self.fields:
            start, end = data.get("start"), data.get("end")
            if start and end and end <= start:
                self.add_error("end", "The end must be after the start.")
            data["start"], data["end"] = start, end
        return data


class _WallClockField(forms.DateTimeField):
    """A date and time as typed, for a zone the form names in another field (a rotation's).

    Read in UTC, where every reading exists, only to carry it to ``clean()``:
    in the page's zone (the reader's) 02:30 on a spring-forward night is refused.
    """

    def to_python(self, value):
        with override(ZoneInfo("UTC")):
            return super().to_python(value)


class RotationForm(_TeamForm):
    name = forms.CharField(max_length=120)
    layer = forms.SlugField(max_length=60, initial=Rotation.PRIMARY, help_text="primary, secondary or any name.")
    participants = forms.CharField(help_text="Usernames in hand-off order, separated by commas.")
    shift_length = forms.CharField(initial="P7D", help_text="ISO 8601: P7D (a week), P1D (a day), PT12H (12 hours).")
    # A wall-clock reading in the rotation's zone, itself a field: placed and range-checked in clean().
    handoff_at = _WallClockField(widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS,
                                 help_text="Local date and time of the first hand-off.")
    timezone = forms.CharField(help_text="IANA zone; hand-offs keep their local time across DST.")
    restrict_days = forms.TypedMultipleChoiceField(choices=WEEKDAYS, coerce=int, required=False,
                                                   widget=forms.CheckboxSelectMultiple,
                                                   label="Only on these days (optional)")
    restrict_start = forms.TimeField(required=False, label="from", widget=forms.TimeInput(attrs={"type": "time"}))
    restrict_end = forms.TimeField(required=False, label="until", widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, team=team, **kwargs)
        self.fields["timezone"].initial = team.timezone

    def clean_participants(self):
        names = [n.strip() for n in self.cleaned_data["participants"].split(",") if n.strip()]
        if not names:
            raise forms.ValidationError("List at least one participant.")
        found = {u.username: u for u in User.objects.filter(username__in=names, memberships__team=self.team)}
        missing = [n for n in names if n not in found]
        if missing:
            raise forms.ValidationError(f"Not members of {self.team.name}: {', '.join(missing)}.")
        return [found[n] for n in names]

    def clean_shift_length(self):
        try:
            parse_shift_length(self.cleaned_data["shift_length"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return self.cleaned_data["shift_length"]

    def clean_timezone(self):
        value = self.cleaned_data["timezone"]
        validate_timezone(value)
        return value

    def clean(self):
        data = super().clean()
        first, zone = data.get("handoff_at"), data.get("timezone")
        if first and zone and place(first.replace(tzinfo=None), ZoneInfo(zone)) is None:
            self.add_error("handoff_at", range_message(f"{shown(first)} in {zone}"))
        days, start, end = data.get("restrict_days"), data.get("restrict_start"), data.get("restrict_end")
        if days or start or end:
            if not (days and start and end):
                raise forms.ValidationError("A restriction needs days, a start time and an end time.")
            data["restrictions"] = [{"days": sorted(days), "start": start.strftime("%H:%M"),
                                     "end": end.strftime("%H:%M")}]
        else:
            data["restrictions"] = []
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"name": d["name"], "layer": d["layer"], "participants": d["participants"],
                "shift_length": d["shift_length"], "handoff_at": d["handoff_at"].replace(tzinfo=None),
                "timezone": d["timezone"], "restrictions": d["restrictions"]}


class ParticipantsForm(_TeamForm):
    rotation = forms.ModelChoiceField(queryset=Rotation.objects.none())
    participants = forms.CharField(help_text="Usernames in the new hand-off order, separated by commas.")
    start = local_moment(label="Effective from")

    def clean_participants(self):
        names = [n.strip() for n in self.cleaned_data["participants"].split(",") if n.strip()]
        found = {u.username: u for u in User.objects.filter(username__in=names, memberships__team=self.team)}
        missing = [n for n in names if n not in found]
        if not names or missing:
            raise forms.ValidationError(f"Not members of {self.team.name}: {', '.join(missing)}." if missing
                                        else "List at least one participant.")
        return [found[n] for n in names]


class OverrideForm(_TeamForm):
    rotation = forms.ModelChoiceField(queryset=Rotation.objects.none())
    user = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="username",
                                  label="Who takes the time")
    start = local_moment()
    end = local_moment()
    reason = forms.CharField(max_length=200, required=False)


class SwapForm(_TeamForm):
    rotation = forms.ModelChoiceField(queryset=Rotation.objects.none())
    recipient = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="username",
                                       label="Ask")
    start = local_moment()
    end = local_moment()
    message = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class HandoffNoteForm(_TeamForm):
    rotation = forms.ModelChoiceField(queryset=Rotation.objects.none())
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Note for the next person on call")


class ScheduleImportForm(forms.Form):
    file = forms.FileField(required=False, help_text="A schedule.yaml exported from Vigil.")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8}), label="or paste YAML")

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            data["yaml"] = upload.read().decode("utf-8", errors="replace")
        elif data.get("text"):
            data["yaml"] = data["text"]
        else:
            raise forms.ValidationError("Choose a file or paste the YAML.")
        return data


# --- Escalation policies ----------------------------------------------------------------

STEP_ROWS = 8
_STEP = re.compile(r"^Step (\d+)")


def target_value(target: dict) -> str:
    """An API-form target as an option's value, ``type:id`` (usernames, slugs and layer names hold no colon)."""
    return f"{target['type']}:{target['id']}"


def target_choices(team, current=()) -> list:
    """The targets a policy of ``team`` may page, grouped for a multi-select (three queries).

    ``current``: (value, label) of targets the policy already has that the groups lack (a person who left
    the team, another team's rotation), so that saving the form keeps them."""
    people = User.objects.filter(memberships__team=team, is_active=True).order_by("full_name", "username")
    rotations = list(Rotation.objects.filter(team=team).order_by("layer", "name"))
    others = Team.objects.exclude(pk=team.pk).order_by("name")
    groups = [
        (f"On call in {team.name}",
         [(f"layer:{layer}", f"Whoever is on call in the {layer} layer")
          for layer in sorted({r.layer for r in rotations})]
         + [(f"rotation:{r.pk}", f"Whoever is on call in {r.name}") for r in rotations]),
        (f"People of {team.name}", [(f"user:{u.username}", f"{u.display_name} ({u.username})") for u in people]),
        (team.name, [(f"team_leads:{team.slug}", f"Leads of {team.name}"),
                     (f"team_managers:{team.slug}", f"Managers of {team.name}"),
                     (f"team:{team.slug}", f"Everyone in {team.name}")]),
        ("Beyond the team", [choice for other in others for choice in (
            (f"team_leads:{other.slug}", f"Leads of {other.name}"),
            (f"team_managers:{other.slug}", f"Managers of {other.name}"))]),
    ]
    known = {value for _, choices in groups for value, _ in choices}
    extra = [(value, label) for value, label in current if value not in known]
    if extra:
        groups.append(("Already in this policy", extra))
    return [(name, choices) for name, choices in groups if choices]


class PolicyForm(forms.Form):
    """A policy with a fixed number of step rows (blank rows are skipped): no JavaScript needed.

    Each row is a delay and a multi-select of targets whose values are ``type:id`` in the API's terms;
    ``policy_fields()`` gives what ``create_policy``/``update_policy`` take."""

    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    repeat = forms.IntegerField(min_value=0, max_value=MAX_REPEAT, initial=0,
                                help_text=f"How many more times the whole list runs after its last step (0–{MAX_REPEAT}).")
    is_default = forms.BooleanField(required=False, label="The team's default policy",
                                    help_text="Used for incidents whose services name no policy; one per team.")

    def __init__(self, *args, team, policy=None, **kwargs):
        current = []
        if policy is not None:
            names = target_names([policy.steps])
            steps = steps_to_api(policy.steps, names)
            current = [(target_value(api), target_label(stored, names, team))
                       for api_step, step in zip(steps, policy.steps, strict=True)
                       for api, stored in zip(api_step["targets"], step["targets"], strict=True)]
            kwargs.setdefault("initial", {
                "name": policy.name, "description": policy.description, "repeat": policy.repeat,
                "is_default": policy.is_default,
                **{f"step{n}_delay": step["delay_minutes"] for n, step in enumerate(steps, 1)},
                **{f"step{n}_targets": [target_value(t) for t in step["targets"]] for n, step in enumerate(steps, 1)},
            })
        super().__init__(*args, **kwargs)
        self.team = team
        self.rows = min(MAX_STEPS, max(STEP_ROWS, len(policy.steps) + 1 if policy is not None else 0))
        choices = target_choices(team, current)
        for n in range(1, self.rows + 1):
            self.fields[f"step{n}_delay"] = forms.IntegerField(
                required=False, min_value=1, max_value=MAX_DELAY_MINUTES, label=f"Step {n}: minutes to wait",
                help_text="for an acknowledgement before the next step",
            )
            self.fields[f"step{n}_targets"] = forms.MultipleChoiceField(
                required=False, choices=choices, label=f"Step {n}: page",
                widget=forms.SelectMultiple(attrs={"size": 6}),
            )
        self.step_rows: list[int] = []  # the row of each step kept, for messages about "Step n"

    def step_fields(self):
        """(delay field, targets field, the chosen targets in words) per row, for the template: a
        multiple select shows only a few of its options, so the choice is also spelled out beside it."""
        rows = []
        for n in range(1, self.rows + 1):
            field = self[f"step{n}_targets"]
            chosen = {str(v) for v in (field.value() or [])}
            labels = {str(value): label for _, group in field.field.choices for value, label in group}  # grouped
            rows.append((self[f"step{n}_delay"], field, [labels[v] for v in labels if v in chosen]))
        return rows

    def clean(self):
        data = super().clean()
        steps = []
        for n in range(1, self.rows + 1):
            delay, values = data.get(f"step{n}_delay"), data.get(f"step{n}_targets") or []
            if f"step{n}_delay" in self.errors or f"step{n}_targets" in self.errors:
                continue
            if delay is None and not values:
                continue
            if delay is None:
                self.add_error(f"step{n}_delay", "How many minutes should this step wait before the next one?")
                continue
            if not values:
                self.add_error(f"step{n}_targets", "Choose whom this step pages, or clear its minutes.")
                continue
            targets = []
            for value in values:
                kind, _, ident = value.partition(":")
                targets.append({"type": kind, "id": int(ident) if kind == "rotation" and ident.isdigit() else ident})
            steps.append({"delay_minutes": delay, "targets": targets})
            self.step_rows.append(n)
        if not steps and not self.errors:
            raise forms.ValidationError("Give at least one step: its minutes and whom it pages.")
        data["steps"] = steps
        return data

    def policy_fields(self) -> dict:
        d = self.cleaned_data
        return {"name": d["name"], "description": d["description"], "repeat": d["repeat"],
                "is_default": d["is_default"], "steps": d["steps"]}

    def add_service_errors(self, exc) -> None:
        """A service's ValidationError on the form; "Step n" in its messages is the form's row."""
        def row(message: str) -> str:
            return _STEP.sub(lambda m: f"Step {self._row(int(m.group(1)))}", message)

        for field, messages in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
            for message in messages:
                self.add_error(field if field in self.fields else None, row(message))

    def _row(self, step: int) -> int:
        return self.step_rows[step - 1] if 0 < step <= len(self.step_rows) else step
