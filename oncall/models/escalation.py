"""Escalation policies: who is paged for an incident, in what order, and how often.

A policy belongs to a team and holds its steps as one JSON list, so that its
history (django-simple-history) shows every edit as one row, and an escalation
run can snapshot the whole policy with one copy::

    [{"delay_minutes": 15, "targets": [{"type": "rotation", "id": 4}, {"type": "team_leads", "id": 2}]},
     {"delay_minutes": 30, "targets": [{"type": "user", "id": 17}]}]

Targets are stored by primary key (``user`` a user's, ``rotation`` a
rotation's, ``team_leads``/``team_managers``/``team`` a team's) and by name
for ``layer`` (a layer of the policy's own team, e.g. ``"primary"``). The API
and the YAML file speak usernames and slugs; ``oncall.services.escalation``
translates. A step pages its targets when it is entered, then waits
``delay_minutes`` for an acknowledgement before the next one; ``repeat`` is
how many more times the whole list runs after the last step.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.history import HistoricalRecords
from core.text import validate_one_line

from .people import Team

TARGET_TYPES = ("user", "rotation", "layer", "team_leads", "team_managers", "team")
MAX_STEPS = 20
MAX_TARGETS = 20
MAX_REPEAT = 9
MAX_DELAY_MINUTES = 24 * 60


def validate_steps(value) -> None:
    """The stored shape (see the module docstring); references are checked by the service."""
    if not isinstance(value, list) or not value:
        raise ValidationError("A policy needs at least one step.")
    if len(value) > MAX_STEPS:
        raise ValidationError(f"A policy has at most {MAX_STEPS} steps.")
    for n, step in enumerate(value, 1):
        if not isinstance(step, dict) or set(step) != {"delay_minutes", "targets"}:
            raise ValidationError(f"Step {n} needs exactly delay_minutes and targets.")
        delay = step["delay_minutes"]
        if not isinstance(delay, int) or isinstance(delay, bool) or not 1 <= delay <= MAX_DELAY_MINUTES:
            raise ValidationError(f"Step {n}: delay_minutes must be a whole number from 1 to {MAX_DELAY_MINUTES}.")
        targets = step["targets"]
        if not isinstance(targets, list) or not targets or len(targets) > MAX_TARGETS:
            raise ValidationError(f"Step {n} needs from 1 to {MAX_TARGETS} targets.")
        for target in targets:
            if not isinstance(target, dict) or set(target) != {"type", "id"} or target["type"] not in TARGET_TYPES:
                raise ValidationError(f"Step {n}: each target is {{type, id}} with type one of {', '.join(TARGET_TYPES)}.")
            expected = str if target["type"] == "layer" else int
            if not isinstance(target["id"], expected) or isinstance(target["id"], bool):
                raise ValidationError(f"Step {n}: a {target['type']} target's id must be a {expected.__name__}.")


class EscalationPolicy(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="escalation_policies")
    name = models.CharField(max_length=120, validators=[validate_one_line])
    description = models.TextField(blank=True)
    steps = models.JSONField(default=list, validators=[validate_steps])
    repeat = models.PositiveSmallIntegerField(
        default=0, help_text=f"How many more times the whole list runs after its last step (0–{MAX_REPEAT})."
    )
    is_default = models.BooleanField(
        default=False, help_text="Used for the team's incidents whose services name no policy."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["team__name", "name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="policy_unique_team_name"),
            models.UniqueConstraint(fields=["team"], condition=Q(is_default=True), name="policy_one_default_per_team"),
            models.CheckConstraint(condition=Q(repeat__lte=MAX_REPEAT), name="policy_repeat_at_most_9"),
        ]

    def __str__(self) -> str:
        return f"{self.team.slug}: {self.name}"
