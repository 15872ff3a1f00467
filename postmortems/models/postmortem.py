"""Postmortems: one per incident, their review, contributing factors and key timeline events."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django_fsm import FSMField, FSMModelMixin, transition

from core.history import HistoricalRecords
from core.text import validate_one_line
from incidents.models import Incident, Severity
from oncall.models import Team

MAX_DUE_HOURS = 24 * 366


class PostmortemPolicy(models.Model):
    """Whether resolving an incident of one severity makes a postmortem due, and by when.

    Seeded by a migration (SEV1: required, 48 h; SEV2: required, 7 days; SEV3 and SEV4: not required, anyone
    may start one); staff change them in the admin. A severity without a row follows the same defaults.
    """

    severity = models.OneToOneField(Severity, on_delete=models.CASCADE, related_name="postmortem_policy")
    required = models.BooleanField(
        default=False,
        help_text="Resolving an incident of this severity makes a postmortem due, and the incident may not close "
                  "until it is published.",
    )
    due_hours = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_DUE_HOURS)],
        help_text="Hours after resolution the postmortem is due (48 = two days, 168 = a week). Empty: no due date "
                  "(only for a postmortem that is not required).",
    )

    class Meta:
        ordering = ["severity__rank"]
        verbose_name_plural = "postmortem policies"

    def __str__(self) -> str:
        if not self.required:
            return f"{self.severity.name}: optional"
        return f"{self.severity.name}: required, due {self.due_hours} h after resolution"

    def clean(self):
        if self.required and not self.due_hours:
            raise ValidationError({"due_hours": "A required postmortem needs a due time: give the hours after "
                                                "resolution it is due."})


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


TRANSITIONS = ["submit", "approve", "publish", "reopen"]


class PostmortemQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PostmortemQuerySet":
        """Who may see an incident may see its postmortem (its team, its responders, staff)."""
        return self.filter(incident__in=Incident.objects.visible_to(user))

    def unpublished(self) -> "PostmortemQuerySet":
        return self.exclude(status=PostmortemStatus.PUBLISHED)

    def overdue(self, now) -> "PostmortemQuerySet":
        return self.unpublished().filter(due_at__lt=now)


def _has_owner(postmortem: "Postmortem") -> bool:
    return postmortem.owner_id is not None


def _approved(postmortem: "Postmortem") -> bool:
    return postmortem.approvals().exists()


def _not_the_author(postmortem: "Postmortem", user) -> bool:
    return user is not None and user.pk != postmortem.owner_id


class Postmortem(FSMModelMixin, models.Model):
    """The blameless write-up of one incident, following the template's sections.

    Text sections are Markdown, shown through the runbooks' sanitiser. ``version`` grows with every saved
    edit: an edit made from an older version is refused (optimistic locking), so no one's save is lost.
    ``facts`` is what the incident said when the draft was made (fields, durations, roles, responders, pages).
    """

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="postmortem")
    status = FSMField(default=PostmortemStatus.DRAFT, choices=PostmortemStatus.choices, protected=True)
    required = models.BooleanField(
        default=False, help_text="Its severity's policy requires it: the incident may not close until it is published.")
    due_at = models.DateTimeField(null=True, blank=True, help_text="When it should be published.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_postmortems",
        help_text="Its author, who sees it through; by default the incident commander. Approved by someone else.")

    summary = models.TextField(blank=True, help_text="What happened, in a few sentences.")
    impact = models.TextField(blank=True, help_text="Who and what was affected, and how.")
    users_affected = models.PositiveIntegerField(null=True, blank=True)
    revenue_impact = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                         help_text="Estimated revenue lost, in the org's currency.")
    budget_consumed = models.CharField(
        max_length=200, blank=True, validators=[validate_one_line],
        help_text="SLA or error budget consumed, e.g. '38% of the monthly error budget'.")
    root_cause = models.TextField(blank=True)
    detection = models.TextField(blank=True, help_text="How it was detected.")
    detection_sooner = models.TextField(blank=True, help_text="Could it have been detected sooner? How?")
    response = models.TextField(blank=True, help_text="How the response went.")
    went_well = models.TextField(blank=True, help_text="What went well.")
    to_improve = models.TextField(blank=True, help_text="What could have gone better.")
    lessons = models.TextField(blank=True, help_text="Lessons learned.")

    facts = models.JSONField(default=dict, blank=True,
                             help_text="The incident as the draft was made: fields, durations, roles, responders, "
                                       "pages sent.")
    version = models.PositiveIntegerField(default=1, help_text="Grows with every saved edit (optimistic locking).")
    review_round = models.PositiveIntegerField(
        default=0, help_text="Grows with each submission; only approvals of the current round count.")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="Empty: Vigil made it when the incident was resolved.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    edited_at = models.DateTimeField(
        null=True, blank=True, help_text="First saved by a person; until then the draft follows the incident.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    search_document = SearchVectorField(
        null=True, editable=False,
        help_text="PostgreSQL only (empty on SQLite): the weighted words the library searches, GIN-indexed; "
                  "kept by library.keep_search_document whenever the text or the incident's title changes.")

    history = HistoricalRecords(excluded_fields=["facts", "updated_at", "search_document"])

    objects = PostmortemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The due list and the overdue highlight: unpublished ones by due date.
            models.Index(fields=["due_at"], name="postmortem_due_unpublished",
                         condition=~Q(status=PostmortemStatus.PUBLISHED)),
        ]

    def __str__(self) -> str:
        return f"Postmortem of {self.incident.number}" if self.incident_id else "Postmortem"

    @property
    def editable(self) -> bool:
        return self.status != PostmortemStatus.PUBLISHED

    def approvals(self) -> models.QuerySet:
        """Approvals that count: of the current review round, by someone other than the owner."""
        return self.reviews.filter(approved_round=self.review_round, approved_at__isnull=False).exclude(
            reviewer_id=self.owner_id)

    # --- Lifecycle. Transitions only set fields; services do the rest. ------

    @transition(field=status, source=PostmortemStatus.DRAFT, target=PostmortemStatus.IN_REVIEW,
                conditions=[_has_owner])
    def submit(self, *, now):
        self.submitted_at = now
        self.review_round += 1

    @transition(field=status, source=PostmortemStatus.IN_REVIEW, target=PostmortemStatus.IN_REVIEW,
                permission=_not_the_author)
    def approve(self, *, now):
        pass  # the approval is a Review row (services.approve); the postmortem itself stays in review

    @transition(field=status, source=PostmortemStatus.IN_REVIEW, target=PostmortemStatus.PUBLISHED,
                conditions=[_approved])
    def publish(self, *, now):
        self.published_at = now

    @transition(field=status, source=[PostmortemStatus.IN_REVIEW, PostmortemStatus.PUBLISHED],
                target=PostmortemStatus.DRAFT)
    def reopen(self, *, now):
        self.published_at = None


class Review(models.Model):
    """Someone asked to review a postmortem, and their approval (in the round they gave it)."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="postmortem_reviews")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_round = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="The review round the approval was given in.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["postmortem", "requested_at", "id"]
        constraints = [models.UniqueConstraint(fields=["postmortem", "reviewer"], name="review_unique_reviewer")]
        indexes = [models.Index(fields=["reviewer", "postmortem"], name="review_reviewer")]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.postmortem}"


class PostmortemEvent(models.Model):
    """One line of a postmortem's timeline: copied from the incident's timeline, or written in by a person.

    The author marks the key events; the rest stay for reference.
    """

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=32, help_text="The incident timeline's kind, or 'added' for one written in.")
    actor = models.CharField(max_length=150, blank=True, help_text="Who, by name as it was then.")
    summary = models.TextField()
    key = models.BooleanField(default=False, help_text="A key event: shown in the postmortem's timeline.")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="Who wrote it in (empty: copied from the incident).")

    class Meta:
        ordering = ["postmortem", "at", "id"]

    def __str__(self) -> str:
        return self.summary[:60]


class FactorTag(models.Model):
    """A word for a contributing factor: everyone's (no team; staff keep these) or one team's own."""

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="postmortem_factor_tags", help_text="Empty: offered to every team.")
    name = models.CharField(max_length=60, validators=[validate_one_line])
    description = models.CharField(max_length=200, blank=True, validators=[validate_one_line])
    active = models.BooleanField(default=True, help_text="Retired tags stay on old postmortems but are not offered.")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "team", name="factor_tag_unique_per_team"),
            models.UniqueConstraint(Lower("name"), condition=Q(team__isnull=True), name="factor_tag_unique_global"),
        ]

    def __str__(self) -> str:
        return self.name


class ContributingFactor(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="factors")
    tag = models.ForeignKey(FactorTag, on_delete=models.PROTECT, related_name="factors")
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["postmortem", "id"]

    def __str__(self) -> str:
        return f"{self.tag}: {self.description[:60]}"
