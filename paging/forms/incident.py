"""The incident page's "Page" form: whom to page (one choice among people, teams, rotations and
policies) and an optional message. It only validates; the view calls ``paging.services.pages.page``."""

from django import forms
from django.core.exceptions import ValidationError

from ..queries import PageTargets

# Which form field shows a service error about which argument.
_ERROR_FIELDS = {"targets": "target", "message": "message"}


def _label(user) -> str:
    return f"{user.display_name} ({user.username})" if user.display_name != user.username else user.username


class PageForm(forms.Form):
    """One select with a group per kind of target, so it works without JavaScript and on a phone.

    Values are ``<type>:<id>`` as the API names targets: ``user:ivan``, ``team:platform`` (its
    on-call now), ``team_members:platform`` (everyone), ``rotation:4``, ``policy:2``.
    """

    target = forms.ChoiceField(label="Whom to page")
    message = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Sent with the page: what you need from them.",
    )

    def __init__(self, *args, targets: PageTargets, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "id_page_%s")  # unique beside the incident page's other forms
        super().__init__(*args, **kwargs)
        groups = [
            ("A person", [(f"user:{u.username}", _label(u)) for u in targets.people]),
            ("A team's on-call (primary layer, now)", [(f"team:{t.slug}", f"{t.name} on call") for t in targets.teams]),
            ("A whole team (every member)", [(f"team_members:{t.slug}", f"Everyone in {t.name}") for t in targets.teams]),
            ("A rotation (whoever is on call in it)",
             [(f"rotation:{r.pk}", f"{r.team.name}: {r.name} ({r.layer})") for r in targets.rotations]),
            ("An escalation policy (its first step)",
             [(f"policy:{p.pk}", f"{p.team.name}: {p.name}") for p in targets.policies]),
        ]
        self.fields["target"].choices = [("", "Choose whom to page"), *((name, options) for name, options in groups if options)]

    def targets(self) -> list[dict]:
        """The chosen target as the service (and the API) take it: ``[{type, id}]``."""
        kind, _, ident = self.cleaned_data["target"].partition(":")
        return [{"type": kind, "id": int(ident) if kind in ("rotation", "policy") else ident}]

    def add_service_errors(self, exc: ValidationError) -> None:
        """A refusal of the service, on the field it is about ("Nobody is reached: …" under the choice)."""
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(_ERROR_FIELDS.get(name), error)
        else:
            for error in exc.messages:
                self.add_error(None, error)
