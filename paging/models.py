"""Paging: escalation runs, people's contact methods and rules, subscriptions, and every message sent.

The database decides, Celery delivers (../ARCHITECTURE.md): an
``EscalationRun`` says which step of its policy snapshot is due when; the
service ``paging.services.escalation.advance_escalation`` is the only thing
that moves it. Every message to a person is a ``Notification`` row, claimed
and delivered by ``paging.services.delivery.deliver`` through one channel
class per medium.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.text import validate_one_line
from incidents.models import Incident, Service, Severity
from oncall.models import EscalationPolicy, Team


def new_token() -> str:
    return uuid.uuid4().hex


class Urgency(models.TextChoices):
    HIGH = "high", "High (SEV1, SEV2)"
    LOW = "low", "Low (SEV3, SEV4)"


def urgency_of(severity: Severity) -> str:
    """SEV1 and SEV2 are high urgency, the rest low (../API.md)."""
    return Urgency.HIGH if severity.rank <= 2 else Urgency.LOW


class EscalationRunQuerySet(models.QuerySet):
    def active(self) -> "EscalationRunQuerySet":
        return self.filter(state=EscalationRun.State.ACTIVE)

    def due(self, now) -> "EscalationRunQuerySet":
        """Runs with a step due (or an acknowledge target passed); the sweep's query, on ``run_due``."""
        return self.filter(state=EscalationRun.State.ACTIVE, next_step_at__lte=now)

    def resolve_overdue(self, now) -> "EscalationRunQuerySet":
        """Runs whose incident passed its resolve target and whose leads are not told yet (``run_resolve_due``)."""
        return self.filter(resolve_due_at__lte=now)


class EscalationRun(models.Model):
    """One escalation of one incident through a snapshot of its policy.

    ``step`` is the index of the next step to enter and ``loop`` how many times
    the list has run already; ``next_step_at`` is when that step is due (the
    earlier of its delay and the incident's acknowledge target). ``token``
    changes at every advance: a task carrying an old one returns at once.
    """

    class State(models.TextChoices):
        ACTIVE = "active", "Escalating"
        ACKNOWLEDGED = "acknowledged", "Stopped: acknowledged"
        RESOLVED = "resolved", "Stopped: resolved"
        EXHAUSTED = "exhausted", "Every step paged; nobody acknowledged"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="escalation_runs")
    policy = models.ForeignKey(EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    policy_name = models.CharField(max_length=120, blank=True)
    # {"repeat": n, "steps": [...]} as the policy was when the run started (oncall.models.escalation).
    snapshot = models.JSONField()
    urgency = models.CharField(max_length=4, choices=Urgency.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    step = models.PositiveSmallIntegerField(default=0)
    loop = models.PositiveSmallIntegerField(default=0)
    token = models.CharField(max_length=32, default=new_token)
    next_step_at = models.DateTimeField(null=True, blank=True)
    ack_due_at = models.DateTimeField(null=True, blank=True, help_text="The severity's acknowledge target.")
    ack_breached_at = models.DateTimeField(null=True, blank=True)
    resolve_due_at = models.DateTimeField(null=True, blank=True,
                                          help_text="When the leads are told the resolve target passed; cleared then.")
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = EscalationRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["incident"], condition=Q(state="active"), name="run_one_active_per_incident"),
        ]
        indexes = [
            models.Index(fields=["next_step_at"], condition=Q(state="active"), name="run_due"),
            models.Index(fields=["resolve_due_at"], condition=Q(resolve_due_at__isnull=False), name="run_resolve_due"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} step {self.step} loop {self.loop} ({self.state})"

    @property
    def steps(self) -> list[dict]:
        return self.snapshot.get("steps", [])


class ContactMethod(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        VOICE = "voice", "Voice call"
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "Webhook"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    address = models.CharField(
        max_length=500, validators=[validate_one_line],
        help_text="E-mail address; E.164 phone number; Slack member id (U…) or incoming-webhook URL; webhook URL.",
    )
    label = models.CharField(max_length=60, blank=True, validators=[validate_one_line])
    verified_at = models.DateTimeField(null=True, blank=True)
    # A verification code, its hash only; cleared once verified.
    code_hash = models.CharField(max_length=128, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    # Webhooks sign their body with this (HMAC-SHA256); shown to the owner on their profile.
    secret = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "address"], name="contact_unique_address")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"

    def save(self, *args, **kwargs):
        if self.kind == self.Kind.WEBHOOK and not self.secret:
            self.secret = secrets.token_hex(32)
        super().save(*args, **kwargs)

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class NotificationRule(models.Model):
    """"For a high-urgency page, use this method N minutes after it starts, if still unacknowledged"."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules")
    urgency = models.CharField(max_length=4, choices=Urgency.choices)
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_minutes = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["user", "urgency", "delay_minutes", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "urgency", "contact_method", "delay_minutes"], name="rule_unique"),
            models.CheckConstraint(condition=Q(delay_minutes__lte=1440), name="rule_delay_at_most_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.urgency}: {self.contact_method} after {self.delay_minutes} min"


class PagingProfile(models.Model):
    """A person's working hours: low-urgency pages wait for them when ``hold_low_urgency`` is on.

    The hours are in the person's own time zone (``User.timezone``).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paging_profile")
    hold_low_urgency = models.BooleanField(default=False, help_text="Hold SEV3/SEV4 pages until my working hours.")
    work_days = models.JSONField(default=list, help_text="ISO weekdays, Monday = 0.")
    work_start = models.TimeField(null=True, blank=True)
    work_end = models.TimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: working hours"


class Notification(models.Model):
    """One message to one person through one contact method, and every attempt to deliver it."""

    class Kind(models.TextChoices):
        PAGE = "page", "Page"
        STAKEHOLDER = "stakeholder", "Stakeholder notice"
        OVERDUE = "overdue", "Resolve target passed"
        HANDOFF = "handoff", "Hand-off"
        REMINDER = "reminder", "Shift reminder"
        SWAP = "swap", "Swap request"
        TEST = "test", "Test message"
        VERIFY = "verify", "Verification code"
        UPDATE_DUE = "update_due", "Update due"
        STATUS = "status", "Status page e-mail"
        PM_MEETING = "pm_meeting", "Postmortem review meeting"
        PM_REMINDER = "pm_reminder", "Postmortem reminder"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Empty for a message to an address that is nobody's account: a team's Slack channel,
    # a status page subscriber (``comms``).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="notifications")
    contact_method = models.ForeignKey(ContactMethod, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="notifications")
    channel = models.CharField(max_length=8, choices=ContactMethod.Kind.choices)
    address = models.CharField(max_length=500)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    run = models.ForeignKey(EscalationRun, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    loop = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="Who paged by hand; empty for escalations.")
    subject = models.CharField(max_length=255)
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True,
                               help_text="Extra e-mail headers (a status page subscriber's List-Unsubscribe).")
    attachments = models.JSONField(
        default=list, blank=True,
        help_text='E-mail only: text files sent with the message, [{"filename", "content_type", "content"}] '
                  '(a review meeting\'s invitation: text/calendar; method=REQUEST).')
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    due_at = models.DateTimeField(help_text="Not delivered before this (a rule's delay, working hours).")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A delivery in progress owns the row until then.")
    last_error = models.TextField(blank=True)
    provider = models.CharField(max_length=60, blank=True, help_text="Which provider took it (SMS and voice).")
    reply_code = models.CharField(max_length=8, blank=True,
                                  help_text="Texting this code back acknowledges the incident (SMS pages).")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step", "loop", "user", "contact_method"],
                                    condition=Q(run__isnull=False), name="notification_once_per_step"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=["queued", "sending"]),
                         name="notification_pending"),
            models.Index(fields=["user", "created_at"], name="notification_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} by {self.channel} ({self.status})"

    @property
    def recipient(self) -> str:
        """Whom it went to, for people: the person's name, or the address when it is nobody's account."""
        return self.user.display_name if self.user_id else self.address


class Subscription(models.Model):
    """A stakeholder asks to be told (not paged) of a service's or a team's incidents from a severity up."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    min_severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="+",
                                     help_text="Told of incidents this severe or worse.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(team__isnull=True) ^ Q(service__isnull=True),
                                   name="subscription_team_xor_service"),
            models.UniqueConstraint(fields=["user", "team"], condition=Q(team__isnull=False),
                                    name="subscription_unique_team"),
            models.UniqueConstraint(fields=["user", "service"], condition=Q(service__isnull=False),
                                    name="subscription_unique_service"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.team or self.service} from {self.min_severity}"


class PagingEvent(models.Model):
    """What paging did to an incident, for its timeline: a step entered or fallen through, a target
    breached, someone paged by hand, a delivery that failed for good. Append-only."""

    class Kind(models.TextChoices):
        ESCALATED = "escalated", "Escalated"
        PAGED = "paged", "Paged"
        ACK_BREACHED = "ack_breached", "Acknowledge target passed"
        RESOLVE_BREACHED = "resolve_breached", "Resolve target passed"
        DELIVERY_FAILED = "delivery_failed", "Delivery failed"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="paging_events")
    run = models.ForeignKey(EscalationRun, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.summary
