"""The review meeting of a postmortem: when, how long, where, who is invited."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.history import HistoricalRecords
from core.text import validate_one_line

from .postmortem import Postmortem


class ReviewMeeting(models.Model):
    """One per postmortem. Scheduling it e-mails each attendee a calendar invitation (.ics); moving it sends
    the same event (``uid``) with a higher ``sequence``, so calendars update it; cancelling sends a cancellation."""

    postmortem = models.OneToOneField(Postmortem, on_delete=models.CASCADE, related_name="meeting")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                           help_text="The calendar event's UID: the same across reschedules.")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(15), MaxValueValidator(8 * 60)])
    location = models.CharField(max_length=300, blank=True, validators=[validate_one_line],
                                help_text="A room, or a video-call link.")
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="postmortem_meetings", blank=True)
    organizer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    sequence = models.PositiveIntegerField(default=0, help_text="Grows with each change sent (iCalendar SEQUENCE).")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"Review of {self.postmortem}"
