"""Incidents, their lifecycle, roles, notes and stakeholder updates."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from core.history import HistoricalRecords
from core.text import validate_one_line
from oncall.models import Team

from .service import Service, Severity


class IncidentStatus(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = [
    IncidentStatus.TRIGGERED,
    IncidentStatus.ACKNOWLEDGED,
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
]


class Category(models.TextChoices):
    OUTAGE = "outage", "Outage"
    DEGRADATION = "degradation", "Degradation"
    SECURITY = "security", "Security"
    DATA_LOSS = "data_loss", "Data loss"
    INTEGRATION = "integration", "Integration"
    OTHER = "other", "Other"


class Source(models.TextChoices):
    FORM = "form", "Browser form"
    API = "api", "API"
    ALERT = "alert", "Alert"
    CHAT = "chat", "Chat command"
    ADMIN = "admin", "Admin"


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "IncidentQuerySet":
        """A person sees the incidents of their teams and those they were paged to; staff see all."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self.all()
        return self.filter(Q(team__in=Team.objects.visible_to(user))
                           | Q(pk__in=Responder.objects.filter(user=user).values("incident_id")))

    def open(self) -> "IncidentQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def for_team(self, team) -> "IncidentQuerySet":
        return self.filter(team=team)

    def search(self, q: str) -> "IncidentQuerySet":
        """Incidents matching every word of ``q`` in their number, title or description (any case).

        The one search of the incident list page and the API's ``?q=``; blank ``q`` matches all.
        """
        found = self
        for word in q.split():
            found = found.filter(Q(number__icontains=word) | Q(title__icontains=word) | Q(description__icontains=word))
        return found


class IncidentSequence(models.Model):
    """The last incident sequence number handed out per year.

    Numbers are taken by locking this row inside the transaction that inserts
    the incident, so a rolled-back creation gives its number back: numbers are
    unique and gap-free per year even under concurrent creation.
    """

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Incident(FSMModelMixin, models.Model):
    # Null only inside the transaction that creates the incident: numbering is
    # its last write (services.incident._number), so no one ever reads a null.
    number = models.CharField(max_length=20, unique=True, null=True, editable=False,  # noqa: DJ001 - see above
                              help_text="INC-<year>-<sequence>")
    year = models.PositiveIntegerField(editable=False)
    sequence = models.PositiveIntegerField(null=True, editable=False)

    title = models.CharField(max_length=255, validators=[validate_one_line])
    description = models.TextField(blank=True)
    severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="incidents")
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="incidents")
    services = models.ManyToManyField(Service, blank=True, related_name="incidents")

    # Business impact.
    users_affected = models.PositiveIntegerField(null=True, blank=True, help_text="Estimated users affected.")
    revenue_impact = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Estimated revenue lost, in the org's currency."
    )
    customer_facing = models.BooleanField(default=False, help_text="Customers can see the impact.")
    impact = models.TextField(blank=True, help_text="What users experience, in plain words.")
    root_cause = models.TextField(blank=True, help_text="What caused it, once known (updates can quote it).")
    resolution_summary = models.TextField(blank=True, help_text="How it was resolved: asked for when resolving.")

    status = FSMField(default=IncidentStatus.TRIGGERED, choices=IncidentStatus.choices, protected=True)

    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="declared_incidents"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FORM)

    started_at = models.DateTimeField(null=True, blank=True, help_text="When impact began (may precede creation).")
    created_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    investigating_at = models.DateTimeField(null=True, blank=True)
    identified_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Denormalised by alert ingestion, which holds the incident row lock.
    alert_count = models.PositiveIntegerField(default=0)
    last_alert_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "alert_count", "last_alert_at"])

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="incident_unique_year_sequence"),
        ]
        indexes = [
            models.Index(fields=["team", "status"], name="incident_team_status"),
            models.Index(fields=["status", "created_at"], name="incident_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # --- Lifecycle. Transitions only set fields; services do the rest. ------

    @transition(field=status, source=IncidentStatus.TRIGGERED, target=IncidentStatus.ACKNOWLEDGED)
    def acknowledge(self, *, now):
        # Only the first acknowledgement is stamped: after a reopen the incident is
        # acknowledged again, but MTTA measures how long the first page waited.
        if self.acknowledged_at is None:
            self.acknowledged_at = now

    @transition(field=status, source=IncidentStatus.ACKNOWLEDGED, target=IncidentStatus.INVESTIGATING)
    def investigate(self, *, now):
        self.investigating_at = now

    @transition(
        field=status,
        source=[IncidentStatus.ACKNOWLEDGED, IncidentStatus.INVESTIGATING],
        target=IncidentStatus.IDENTIFIED,
    )
    def identify(self, *, now):
        self.identified_at = now

    @transition(field=status, source=IncidentStatus.IDENTIFIED, target=IncidentStatus.MONITORING)
    def mitigate(self, *, now):
        self.mitigated_at = now

    @transition(field=status, source=OPEN_STATUSES, target=IncidentStatus.RESOLVED)
    def resolve(self, *, now):
        self.resolved_at = now

    @transition(field=status, source=IncidentStatus.RESOLVED, target=IncidentStatus.CLOSED)
    def close(self, *, now):
        self.closed_at = now

    @transition(field=status, source=IncidentStatus.RESOLVED, target=IncidentStatus.TRIGGERED)
    def reopen(self, *, now):
        # The first acknowledgement stays (MTTA measures it; ``acknowledge`` keeps
        # it); resolution is measured again from scratch.
        self.resolved_at = None
        self.closed_at = None


TRANSITIONS = ["acknowledge", "investigate", "identify", "mitigate", "resolve", "close", "reopen"]


class RoleAssignment(models.Model):
    class Role(models.TextChoices):
        COMMANDER = "commander", "Incident commander"
        TECH_LEAD = "tech_lead", "Technical lead"
        COMMS_LEAD = "comms_lead", "Communications lead"
        SCRIBE = "scribe", "Scribe"
        SME = "sme", "Subject-matter expert"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=16, choices=Role.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_roles")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "role", "assigned_at"]
        constraints = [
            # One holder for each single-seat role; experts may be many, once each.
            models.UniqueConstraint(
                fields=["incident", "role"], condition=~Q(role="sme"), name="role_single_holder"
            ),
            models.UniqueConstraint(fields=["incident", "role", "user"], name="role_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"


class Note(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    # No index of its own: notes are only ever read per incident (the incident_id index).
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class StatusUpdate(models.Model):
    """A stakeholder update; public ones appear on the status page."""

    class State(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="status_updates")
    state = models.CharField(max_length=16, choices=State.choices)
    body = models.TextField()
    public = models.BooleanField(default=False, help_text="Shown on the public status page.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    next_update_at = models.DateTimeField(null=True, blank=True,
                                          help_text="When the next update is promised; a reminder goes out then.")
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="When the overdue reminder went out.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        # Otherwise updates are only read per incident (the incident_id index); the reminder
        # sweep looks for promises not yet reminded of.
        indexes = [models.Index(fields=["next_update_at"], name="statusupdate_promise_pending",
                                condition=models.Q(next_update_at__isnull=False, reminded_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.state}: {self.body[:60]}"


class Responder(models.Model):
    """Someone pulled into an incident: paged, escalated to, or given a role.

    A responder may see and work that one incident even when it belongs to a
    team they are not in (the database expert of the platform team joining a
    payments outage); ``incidents.permissions`` is where that is decided.
    """

    class Via(models.TextChoices):
        PAGE = "page", "Paged"
        ROLE = "role", "Given a role"
        ESCALATION = "escalation", "Escalation"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="responders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="responding")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField()
    via = models.CharField(max_length=12, choices=Via.choices)

    class Meta:
        ordering = ["incident", "added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "user"], name="responder_unique")]
        indexes = [models.Index(fields=["user", "incident"], name="responder_user_incident")]

    def __str__(self) -> str:
        return f"{self.user} on {self.incident_id} ({self.via})"
