"""Browser forms of the comms app: a communication template's texts, and the incident to preview them with.

The forms check the texts with ``comms.templating``'s rules so that a preview can show what is wrong; the
service checks them again when saving (the admin and other callers go through it too).
"""

from django import forms

from core.text import validate_one_line

from . import templating
from .models import CommTemplate


class TemplateForm(forms.Form):
    subject = forms.CharField(
        required=False, max_length=CommTemplate._meta.get_field("subject").max_length, validators=[validate_one_line],
        help_text="One line: the e-mail subject. Unused on the status page.",
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "true"}),
                           help_text="Plain text with {{ placeholders }} and {% if %} … {% endif %}.")
    incident = forms.ChoiceField(label="Preview with", required=False,
                                 help_text="A recent incident you can see; nothing is sent or saved.")

    def __init__(self, *args, kind: str, incidents=(), **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["incident"].choices = [("", "Choose an incident")] + [
            (i.number, f"{i.number} · {i.title} ({i.get_status_display().lower()})") for i in incidents]

    def _checked(self, name: str) -> str:
        text = self.cleaned_data[name]
        problems = templating.problems_in(text, kind=self.kind)
        if problems:
            raise forms.ValidationError(problems)
        return text

    def clean_subject(self) -> str:
        return self._checked("subject")

    def clean_body(self) -> str:
        return self._checked("body")
