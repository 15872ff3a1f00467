"""Incident checklists: per-severity templates, and the items each incident gets from them."""

from django.conf import settings
from django.db import models

from core.history import HistoricalRecords

from .incident import Incident
from .service import Severity


class ChecklistPhase(models.TextChoices):
    DURING = "during", "During the incident"
    AFTER = "after", "After resolution"


class ChecklistAuto(models.TextChoices):
    """What Vigil can see done by itself, and ticks."""

    SEVERITY = "severity", "A severity is set (at declaration)"
    COMMANDER = "commander", "A commander is assigned"
    STATUS_PAGE = "status_page", "A public status update is posted"
    RESOLUTION = "resolution", "The incident is resolved"
    POSTMORTEM = "postmortem", "Its postmortem's review meeting is scheduled"


class ChecklistTemplate(models.Model):
    """The ordered items an incident of one severity gets for one phase."""

    severity = models.ForeignKey(Severity, on_delete=models.CASCADE, related_name="checklist_templates")
    phase = models.CharField(max_length=8, choices=ChecklistPhase.choices)

    class Meta:
        ordering = ["severity__rank", "phase"]
        constraints = [models.UniqueConstraint(fields=["severity", "phase"], name="checklist_template_unique")]

    def __str__(self) -> str:
        return f"{self.severity.name} {self.get_phase_display().lower()}"


class ChecklistTemplateItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(help_text="Order within the phase, smallest first.")
    text = models.CharField(max_length=200)
    auto = models.CharField(max_length=16, choices=ChecklistAuto.choices, blank=True,
                            help_text="Vigil ticks the item itself when it sees this happen.")

    class Meta:
        ordering = ["template", "position"]
        constraints = [models.UniqueConstraint(fields=["template", "position"], name="checklist_template_item_unique")]

    def __str__(self) -> str:
        return self.text


class ChecklistItem(models.Model):
    """One incident's copy of a template item; ticking it is a timeline event (its history)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="checklist_items")
    phase = models.CharField(max_length=8, choices=ChecklistPhase.choices)
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=200)
    auto = models.CharField(max_length=16, choices=ChecklistAuto.choices, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="Empty on a done item: Vigil ticked it.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "phase", "position"]
        constraints = [models.UniqueConstraint(fields=["incident", "phase", "position"],
                                               name="checklist_item_unique")]

    def __str__(self) -> str:
        return self.text

    @property
    def done(self) -> bool:
        return self.done_at is not None
