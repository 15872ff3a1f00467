"""Status page components: what the public sees, mapped to the services incidents affect."""

from django.conf import settings
from django.db import models

from core.history import HistoricalRecords
from core.text import validate_one_line
from incidents.models import Service
from oncall.models import Team


class ComponentStatus(models.TextChoices):
    # Atlassian Statuspage's component statuses, worst last (``SEVERITY_ORDER``).
    OPERATIONAL = "operational", "Operational"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"


# How bad each status is, for "the worst wins".
SEVERITY_ORDER = {status: rank for rank, status in enumerate(ComponentStatus.values)}


class Component(models.Model):
    """One line of the public status page; its status comes from its services' public incidents."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="components")
    name = models.CharField(max_length=120, validators=[validate_one_line], help_text="Shown to the public.")
    description = models.TextField(blank=True, help_text="Shown to the public under the name.")
    services = models.ManyToManyField(
        Service, blank=True, related_name="components",
        help_text="Public incidents and maintenance of these services set the component's status.",
    )
    position = models.PositiveIntegerField(default=0, help_text="Order on the page, lowest first.")
    status_override = models.CharField(
        max_length=24, blank=True, choices=ComponentStatus.choices,
        help_text="Blank: derived from incidents and maintenance. Otherwise shown as is, whatever happens.",
    )
    override_reason = models.CharField(max_length=255, blank=True, validators=[validate_one_line],
                                       help_text="Why the status is set by hand (internal; not shown).")
    created_at = models.DateTimeField(auto_now_add=True)
    # The status page's ETag reads the newest of these.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class TemplateKind(models.TextChoices):
    """What a communication template is for; ``PUBLIC_KINDS`` are read by customers."""

    INITIAL = "initial", "Initial notification"
    UPDATE = "update", "Status update"
    RESOLUTION = "resolution", "Resolution"
    STATUS_INVESTIGATING = "status_investigating", "Status page: investigating"
    STATUS_IDENTIFIED = "status_identified", "Status page: identified"
    STATUS_MONITORING = "status_monitoring", "Status page: monitoring"
    STATUS_RESOLVED = "status_resolved", "Status page: resolved"
    CUSTOMER_EMAIL = "customer_email", "Customer e-mail"


# Read outside the company: no people's names in them (see ``comms.templating``).
PUBLIC_KINDS = frozenset({
    TemplateKind.STATUS_INVESTIGATING, TemplateKind.STATUS_IDENTIFIED, TemplateKind.STATUS_MONITORING,
    TemplateKind.STATUS_RESOLVED, TemplateKind.CUSTOMER_EMAIL,
})


class CommTemplate(models.Model):
    """The text an update starts from: the organisation's (no team), or a team's own, which wins for its incidents."""

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="comm_templates",
                             help_text="Empty: the organisation's template, used by every team without its own.")
    kind = models.CharField(max_length=24, choices=TemplateKind.choices)
    subject = models.CharField(max_length=255, blank=True, validators=[validate_one_line],
                               help_text="The e-mail subject (placeholders allowed); unused on the status page.")
    body = models.TextField(help_text="Django template syntax: {{ title }}, {% if root_cause %}…{% endif %}.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "communication template"
        ordering = ["kind", "team__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "kind"], name="commtemplate_unique_team_kind"),
            models.UniqueConstraint(fields=["kind"], condition=models.Q(team__isnull=True),
                                    name="commtemplate_unique_org_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.team or 'organisation'})"


class StatusSubscriber(models.Model):
    """An e-mail address told of public updates on a status page, once it confirmed (double opt-in)."""

    email = models.EmailField(max_length=254)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="status_subscribers",
                             help_text="Empty: the organisation's page (every team's public incidents).")
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="Empty until the link mailed was followed.")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["email", "team"], name="statussubscriber_unique_team"),
            models.UniqueConstraint(fields=["email"], condition=models.Q(team__isnull=True),
                                    name="statussubscriber_unique_org"),
        ]
        indexes = [models.Index(fields=["team", "confirmed_at"], name="statussubscriber_team")]

    def __str__(self) -> str:
        return f"{self.email} ({self.team or 'organisation'})"
