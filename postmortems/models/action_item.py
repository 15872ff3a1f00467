"""Action items: what an incident taught, as work with an owner, a due date and a state."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from core.history import HistoricalRecords
from core.text import validate_one_line
from incidents.models import Incident


class Priority(models.TextChoices):
    P0 = "P0", "P0 — do now"
    P1 = "P1", "P1 — this week"
    P2 = "P2", "P2 — this month"
    P3 = "P3", "P3 — when there is time"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


ACTIVE_STATUSES = [ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS]
# The transition that reaches each status (the API sets ``status``; services fire the transition).
TRANSITION_TO = {
    ActionItemStatus.OPEN: "reopen", ActionItemStatus.IN_PROGRESS: "start",
    ActionItemStatus.DONE: "complete", ActionItemStatus.WONT_DO: "drop",
}


class ActionItemQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ActionItemQuerySet":
        """Who may see the incident may see its action items."""
        return self.filter(incident__in=Incident.objects.visible_to(user))

    def active(self) -> "ActionItemQuerySet":
        return self.filter(status__in=ACTIVE_STATUSES)

    def overdue(self, now) -> "ActionItemQuerySet":
        return self.active().filter(due_at__lt=now)


class ActionItem(FSMModelMixin, models.Model):
    """Belongs to an incident (made during the response or from its postmortem); listed with the postmortem,
    its owner's items and its team's."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="action_items")
    title = models.CharField(max_length=200, validators=[validate_one_line])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="action_items")
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P2)
    success_criteria = models.TextField(blank=True, help_text="How we will know it is done.")
    status = FSMField(default=ActionItemStatus.OPEN, choices=ActionItemStatus.choices, protected=True)
    wont_do_reason = models.TextField(blank=True, help_text="Why it will not be done (required for won't do).")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it was done or given up.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Sent to an issue tracker: where it went, its key there (GitHub/GitLab number, Jira key) and address.
    tracker = models.ForeignKey("postmortems.IssueTracker", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="action_items")
    external_key = models.CharField(max_length=100, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True, help_text="When it was sent, or last heard of.")
    history = HistoricalRecords(excluded_fields=["updated_at", "synced_at"])

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "due_at", "id"]
        constraints = [
            # A tracker's webhook finds the item by its key there.
            models.UniqueConstraint(fields=["tracker", "external_key"], name="action_item_unique_external",
                                    condition=~Q(external_key="")),
        ]
        indexes = [
            # "My action items" and the overdue highlight read the active ones by owner and due date.
            models.Index(fields=["owner", "due_at"], name="action_item_owner_active",
                         condition=Q(status__in=ACTIVE_STATUSES)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def is_overdue(self, now) -> bool:
        return self.active and self.due_at is not None and self.due_at < now

    # --- Lifecycle. Transitions only set fields; services do the rest. ------

    @transition(field=status, source=ActionItemStatus.OPEN, target=ActionItemStatus.IN_PROGRESS)
    def start(self, *, now):
        pass

    @transition(field=status, source=ACTIVE_STATUSES, target=ActionItemStatus.DONE)
    def complete(self, *, now):
        self.closed_at = now

    @transition(field=status, source=ACTIVE_STATUSES, target=ActionItemStatus.WONT_DO)
    def drop(self, *, now, reason: str):
        self.closed_at = now
        self.wont_do_reason = reason

    @transition(field=status, source=[ActionItemStatus.IN_PROGRESS, ActionItemStatus.DONE, ActionItemStatus.WONT_DO],
                target=ActionItemStatus.OPEN)
    def reopen(self, *, now):
        self.closed_at = None
        self.wont_do_reason = ""
