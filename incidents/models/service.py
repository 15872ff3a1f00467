"""Reference data: severities and the services incidents affect."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.history import HistoricalRecords
from core.markup import markdown_html
from core.text import validate_one_line
from oncall.models import EscalationPolicy, Team


class Severity(models.Model):
    """SEV1..SEV4 as editable rows; the targets drive dashboards and SLA reports."""

    name = models.CharField(max_length=8, unique=True, help_text="SEV1 is the most severe.")
    rank = models.PositiveSmallIntegerField(unique=True, help_text="1 = most severe; used for ordering.")
    description = models.TextField(blank=True)
    acknowledge_target = models.DurationField(
        default=timedelta(minutes=15), help_text="Someone should acknowledge within this time."
    )
    resolve_target = models.DurationField(
        default=timedelta(hours=4), help_text="The incident should be resolved within this time."
    )

    class Meta:
        ordering = ["rank"]
        verbose_name_plural = "severities"

    def __str__(self) -> str:
        return self.name


class ServiceQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ServiceQuerySet":
        return self.filter(team__in=Team.objects.visible_to(user))


class Service(models.Model):
    slug = models.SlugField(max_length=80, unique=True, help_text="Stable reference used in URLs and the API.")
    name = models.CharField(max_length=120, validators=[validate_one_line])
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="services")
    description = models.TextField(blank=True)
    runbook_url = models.URLField(blank=True, help_text="Link to an external runbook.")
    runbook = models.TextField(blank=True, help_text="Runbook in Markdown, shown on incident pages.")
    escalation_policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="services",
        help_text="Who is paged for this service's incidents (unless a severity names another policy).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def runbook_html(self) -> str:
        """The Markdown runbook as HTML, sanitised: no scripts, no event handlers."""
        return markdown_html(self.runbook)


class SeverityPolicy(models.Model):
    """A service's escalation policy for one severity, in place of its default."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="severity_policies")
    severity = models.ForeignKey(Severity, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="severity_services")

    class Meta:
        ordering = ["service", "severity__rank"]
        constraints = [models.UniqueConstraint(fields=["service", "severity"], name="severity_policy_unique")]

    def __str__(self) -> str:
        return f"{self.service.slug} {self.severity.name}: {self.policy.name}"


class MaintenanceWindowQuerySet(models.QuerySet):
    def active_at(self, when) -> "MaintenanceWindowQuerySet":
        return self.filter(starts_at__lte=when, ends_at__gt=when)


class MaintenanceWindow(models.Model):
    """While a window is active, its service's alerts are stored and shown but open no incident."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["service", "ends_at"], name="maint_service_ends")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="maint_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}: {self.starts_at:%Y-%m-%d %H:%M} → {self.ends_at:%Y-%m-%d %H:%M}"
