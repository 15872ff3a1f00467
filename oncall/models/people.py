"""People and teams: who belongs where, and therefore who may see what."""

import re
import zoneinfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify

from core.history import HistoricalRecords
from core.text import validate_one_line


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name, such as 'Europe/Berlin'.")


SLACK_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")


def validate_slack_user_id(value: str) -> None:
    """A Slack member id as Slack shows it (profile → ⋮ → "Copy member ID"): U… or W…, capitals and digits."""
    if not SLACK_MEMBER_ID.fullmatch(value):
        raise ValidationError(f"{value!r} is not a Slack member id: it starts with U or W followed by capital "
                              "letters and digits, such as U012AB3CD (Slack: your profile, ⋮, Copy member ID).")


SLACK_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,31}")


def validate_slack_channel(value: str) -> None:
    """Where a team's internal updates go in Slack: a channel id (C…) or an incoming-webhook URL."""
    if SLACK_CHANNEL_ID.fullmatch(value) or value.startswith("https://"):
        return
    raise ValidationError(f"{value!r} is neither a Slack channel id (C… : in Slack, the channel's name, then "
                          "\"Copy channel ID\" at the bottom of its About tab; invite the bot to it) nor an "
                          "incoming-webhook URL (https://hooks.slack.com/services/…).")


class User(AbstractUser):
    full_name = models.CharField(max_length=200, blank=True, help_text="Shown everywhere a person is named.",
                                 validators=[validate_one_line])
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone],
        help_text="IANA time zone, used to show this person's shifts in their local time.",
    )
    phone = models.CharField(max_length=32, blank=True, help_text="E.164 number for SMS and voice pages.")
    slack_user_id = models.CharField(
        max_length=32, blank=True, validators=[validate_slack_user_id],
        help_text="Slack member id (U… or W…): links Slack commands and buttons to this person.",
    )

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            # Slack commands find their person by this id: two people with one id would be a guess.
            models.UniqueConstraint(fields=["slack_user_id"], condition=~models.Q(slack_user_id=""),
                                    name="user_unique_slack_user_id",
                                    violation_error_message="Another person already has this Slack member id."),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class TeamQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TeamQuerySet":
        """Teams a person may see: staff see all, everyone else their own teams."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self.all()
        return self.filter(memberships__user=user)


class Team(models.Model):
    slug = models.SlugField(max_length=60, unique=True, help_text="Stable reference used in URLs and the API.")
    name = models.CharField(max_length=120, validators=[validate_one_line])
    description = models.TextField(blank=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone],
        help_text="Hand-offs, business hours and reports use this zone.",
    )
    members = models.ManyToManyField(User, through="Membership", related_name="teams")
    slack_channel = models.CharField(
        max_length=300, blank=True, validators=[validate_slack_channel],
        help_text="The team's Slack channel id (C…) or an incoming-webhook URL: internal incident updates are "
                  "posted there.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:60]
        super().save(*args, **kwargs)


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        LEAD = "lead", "Lead"
        MANAGER = "manager", "Manager"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=16, choices=Role.choices, default=Role.MEMBER,
        help_text="Leads and managers may change the team's settings, services and members.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["team", "user__username"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"
