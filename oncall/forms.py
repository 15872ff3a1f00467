"""Browser forms for schedules. They validate; the views call services.

Date-times typed in a browser are local wall-clock readings; the forms place
them in the team's zone (said next to each field), never in the server's.
"""

from zoneinfo import ZoneInfo

from django import forms
from django.utils.timezone import override

from core.forms import LOCAL_FORMATS, LOCAL_INPUT, local_moment
from core.instants import place, range_message, shown

from .models import Rotation, User
from .models.people import validate_timezone
from .models.schedule import parse_shift_length

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
