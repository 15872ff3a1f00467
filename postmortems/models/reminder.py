"""The daily postmortem digest: one row per person and local day, so it goes out once."""

from django.conf import settings
from django.db import models


class ReminderDigest(models.Model):
    """A person was sent their morning digest for ``day`` (a date in their own time zone)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField()
    postmortems = models.PositiveIntegerField(default=0, help_text="How many postmortems it named.")
    action_items = models.PositiveIntegerField(default=0, help_text="How many action items it named.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="reminder_digest_once")]

    def __str__(self) -> str:
        return f"digest to {self.user_id} for {self.day}"
