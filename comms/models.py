"""Status page components: what the public sees, mapped to the services incidents affect."""

from django.db import models

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
