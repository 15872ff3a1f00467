"""Alert ingestion: integrations, their keys, alert groups and the alerts they receive.

An integration belongs to a service and carries a secret key. Only a hash of
the key is stored (with its first characters, to recognise it), so the full
key is shown once, when it is generated, and compared in constant time.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from core.history import HistoricalRecords
from core.text import validate_one_line
from incidents.models import Incident, MaintenanceWindow, Service

DEFAULT_SEVERITY_MAP = {"critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4"}
PAYLOAD_SEVERITIES = list(DEFAULT_SEVERITY_MAP)

# Shown beside the masked key so people can tell keys apart. A key is looked up
# by its SHA-256 hash, never by this prefix (see alerts.queries.integration_for_key).
KEY_PREFIX_LENGTH = 8


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class IntegrationKind(models.TextChoices):
    EVENTS_V2 = "events_v2", "PagerDuty Events API v2"
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    WEBHOOK = "webhook", "Generic JSON webhook"
    HEARTBEAT = "heartbeat", "Heartbeat"
    OPSGENIE = "opsgenie", "Opsgenie Alert API"


class HeartbeatState(models.TextChoices):
    NEW = "new", "Waiting for the first ping"
    UP = "up", "Up"
    DOWN = "down", "Down (missed)"


class IntegrationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "IntegrationQuerySet":
        return self.filter(service__in=Service.objects.visible_to(user))


class Integration(models.Model):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="integrations")
    kind = models.CharField(max_length=16, choices=IntegrationKind.choices)
    name = models.CharField(max_length=120, validators=[validate_one_line])
    key_prefix = models.CharField(
        max_length=KEY_PREFIX_LENGTH, db_index=True, editable=False,
        help_text="First characters of the key, to recognise it; the key itself is shown once.",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    severity_map = models.JSONField(
        default=dict, blank=True,
        help_text='Payload severity → incident severity, e.g. {"critical": "SEV1"}. '
                  "Missing entries use critical→SEV1, error→SEV2, warning→SEV3, info→SEV4.",
    )
    enabled = models.BooleanField(default=True, help_text="A disabled integration refuses events.")
    auto_resolve = models.BooleanField(
        default=True,
        help_text="Alertmanager and Grafana: resolve the incident when every one of its alerts has resolved. "
                  "Off: the alerts resolve and the incident waits for a person. An explicit resolve "
                  "(Events v2, webhook status resolved) always resolves.",
    )
    # The rate limit's count lives in the cache, not here (see alerts.ratelimit).
    rate_per_second = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1)],
        help_text="Average events per second allowed: a window lasts burst ÷ rate seconds.",
    )
    burst = models.PositiveIntegerField(
        default=200, validators=[MinValueValidator(1)],
        help_text="Events accepted in one window of burst ÷ rate seconds; more are answered 429.",
    )

    # Heartbeats only.
    interval_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Heartbeat: a ping is expected this often."
    )
    grace_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Heartbeat: extra time allowed before an incident opens."
    )
    heartbeat_state = models.CharField(
        max_length=8, choices=HeartbeatState.choices, default=HeartbeatState.NEW, editable=False
    )
    last_ping_at = models.DateTimeField(null=True, blank=True, editable=False)
    # last_ping_at + interval + grace, kept so the beat sweep is one indexed query.
    due_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(
        table_name="incidents_historicalintegration",
        excluded_fields=["heartbeat_state", "last_ping_at", "due_at"]
    )
    objects = IntegrationQuerySet.as_manager()

    class Meta:
        db_table = "incidents_integration"  # created by the incidents app, before alerts was one
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="heartbeat") | Q(interval_seconds__isnull=False, interval_seconds__gt=0),
                name="integration_heartbeat_has_interval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}/{self.name}"

    def severity_name(self, payload_severity: str) -> str:
        return {**DEFAULT_SEVERITY_MAP, **(self.severity_map or {})}.get(payload_severity, "SEV1")

    def due_after(self, ping_at):
        """When a heartbeat pinged at ``ping_at`` is next due: its interval plus grace later."""
        return ping_at + timedelta(seconds=(self.interval_seconds or 0) + (self.grace_seconds or 0))

    @property
    def masked_key(self) -> str:
        return f"{self.key_prefix}…"


class AlertGroup(models.Model):
    """The open incident that alerts with one dedup key (or Alertmanager group) join.

    The partial unique constraint is what makes concurrent triggers with one
    key open exactly one incident: the group row is inserted before the
    incident is created, so a second inserter blocks on the index until the
    first commits, then fails and joins the first one's incident.
    A group closes when its incident resolves; the next trigger opens a new one.
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="groups")
    dedup_key = models.CharField(max_length=255)
    # Null only inside the transaction that claims the key and then opens the
    # incident (see services.ingest._open_or_join); never null once committed.
    incident = models.ForeignKey(Incident, null=True, on_delete=models.CASCADE, related_name="alert_groups")
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "incidents_alertgroup"
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "dedup_key"], condition=Q(closed_at__isnull=True),
                name="alertgroup_one_open_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.integration_id}:{self.dedup_key}"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """One alert as received: an Events v2 trigger, an Alertmanager alert (one per fingerprint), a webhook call or a missed heartbeat."""

    # Alerts are the most written table: every foreign key is served by an
    # index in Meta (a composite one it leads, or a partial one) instead of the
    # single-column index Django would add, so each alert updates four indexes, not seven.
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="alerts", db_index=False)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts", db_index=False,
        help_text="Empty when the alert arrived during a maintenance window.",
    )
    suppressed_by = models.ForeignKey(
        MaintenanceWindow, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts", db_index=False,
        help_text="The maintenance window that kept this alert from opening an incident.",
    )
    dedup_key = models.CharField(max_length=255, help_text="Events v2 dedup_key or Alertmanager fingerprint.")
    status = models.CharField(max_length=8, choices=AlertStatus.choices, default=AlertStatus.FIRING)
    summary = models.CharField(max_length=1024)
    source = models.CharField(max_length=255, blank=True)
    severity = models.CharField(max_length=16, help_text="Severity as sent: critical, error, warning or info.")
    component = models.CharField(max_length=255, blank=True)
    group = models.CharField(max_length=255, blank=True)
    alert_class = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="custom_details or webhook details.")
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    unknown_fields = models.JSONField(
        default=dict, blank=True,
        help_text="Fields of the body Vigil does not know, kept as sent in the body's shape, e.g. "
                  '{"priority": "high", "payload": {"colour": "red"}} (Alertmanager: '
                  '{…, "alerts": [this alert\'s own]}). Stored, never acted on.',
    )
    links = models.JSONField(default=list, blank=True)
    images = models.JSONField(default=list, blank=True)
    runbook_url = models.URLField(max_length=2000, blank=True)
    generator_url = models.URLField(max_length=2000, blank=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the source says it began.")
    received_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "incidents_alert"
        ordering = ["-received_at", "-id"]
        indexes = [
            # Finding the firing alert of a fingerprint or dedup key.
            models.Index(fields=["integration", "dedup_key", "status"], name="alert_integration_key"),
            models.Index(fields=["incident", "received_at"], name="alert_incident_received"),
            models.Index(fields=["integration", "received_at"], name="alert_integration_received"),
            # Few alerts are suppressed; ending or deleting a window finds its own.
            models.Index(fields=["suppressed_by"], name="alert_suppressed_by",
                         condition=models.Q(suppressed_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.summary[:80]

    @property
    def suppressed(self) -> bool:
        return self.suppressed_by_id is not None
