"""Schedules as rows: rotations, their participants over time, overrides and swaps.

Nothing here stores rendered shifts. ``oncall.schedule.final_shifts`` computes
them from these rows on every read, so a change to a rotation or an override
is visible everywhere at once and the past is never rewritten.
"""

import re
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models

from core.history import HistoricalRecords
from core.instants import check_cover_length, check_instant, place, range_message, shown
from core.text import validate_one_line

from .people import Team, User, validate_timezone

# Longer shifts make no schedule, and shift arithmetic on them runs off the calendar (year 9999).
LONGEST_SHIFT_HOURS = 365 * 24
UNIT_HOURS = {"hours": 1, "days": 24, "weeks": 168}
_DURATION = re.compile(r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?)?$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_shift_length(value: str) -> tuple[int, str]:
    """``"P7D"`` → ``(7, "days")``; ``"PT12H"`` → ``(12, "hours")``; ``"P2W"`` → ``(2, "weeks")``.

    Mixed values are normalised to the smallest unit they use (``"P1DT12H"`` →
    ``(36, "hours")``). Raises ``ValueError`` with a message a user can act on.
    """
    match = _DURATION.match(value or "")
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(
            f"{value!r} is not a shift length; use an ISO 8601 duration of whole hours, days or weeks, "
            "such as 'P7D', 'P1W' or 'PT12H'."
        )
    weeks, days, hours = (int(match.group(g) or 0) for g in "wdh")
    total_hours = weeks * UNIT_HOURS["weeks"] + days * UNIT_HOURS["days"] + hours
    if total_hours > LONGEST_SHIFT_HOURS:
        raise ValueError(f"{value!r} is too long: a shift lasts at most a year, P365D (PT8760H in hours).")
    if hours:
        count, unit = total_hours, Rotation.Unit.HOURS
    elif days:
        count, unit = weeks * 7 + days, Rotation.Unit.DAYS
    else:
        count, unit = weeks, Rotation.Unit.WEEKS
    if count <= 0:
        raise ValueError("A shift must last at least one hour.")
    return count, str(unit)


def format_shift_length(count: int, unit: str) -> str:
    return {"hours": f"PT{count}H", "days": f"P{count}D", "weeks": f"P{count}W"}[unit]


def validate_restrictions(value) -> None:
    """Restrictions are weekly local windows: ``[{"days": [0..6], "start": "09:00", "end": "17:00"}]``.

    ``days`` are ISO weekdays counted from Monday = 0. A window whose end is
    not after its start runs past midnight into the next day.
    """
    if value in (None, []):
        return
    if not isinstance(value, list):
        raise ValidationError("Restrictions must be a list of {days, start, end} windows.")
    for window in value:
        if not isinstance(window, dict) or set(window) != {"days", "start", "end"}:
            raise ValidationError('Each restriction needs exactly "days", "start" and "end", e.g. '
                                  '{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}.')
        days = window["days"]
        if not isinstance(days, list) or not days or any(d not in range(7) for d in days):
            raise ValidationError("Restriction days are weekday numbers, Monday = 0 to Sunday = 6.")
        for key in ("start", "end"):
            if not isinstance(window[key], str) or not _HHMM.match(window[key]):
                raise ValidationError(f"Restriction {key} must be a local time HH:MM, such as '09:00'.")


class Rotation(models.Model):
    """A repeating sequence of shifts handed from one participant to the next."""

    class Unit(models.TextChoices):
        HOURS = "hours", "hours"
        DAYS = "days", "days"
        WEEKS = "weeks", "weeks"

    PRIMARY = "primary"
    SECONDARY = "secondary"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=120, validators=[validate_one_line])
    layer = models.SlugField(
        max_length=60, default=PRIMARY,
        help_text="primary, secondary, or any named layer. Rotations sharing a layer cover it together.",
    )
    shift_count = models.PositiveIntegerField(default=1, help_text="How many units one shift lasts.")
    shift_unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.WEEKS)
    handoff_date = models.DateField(help_text="Local date of the first hand-off, in the rotation's zone.")
    handoff_time = models.TimeField(
        help_text="Local wall-clock time of the first hand-off; later hand-offs keep it across DST.",
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone],
                                help_text="IANA zone in which hand-offs keep their local time across DST.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="No shifts from this instant on.")
    restrictions = models.JSONField(
        default=list, blank=True, validators=[validate_restrictions],
        help_text='Weekly local windows the rotation covers, e.g. [{"days": [0,1,2,3,4], "start": "09:00", '
                  '"end": "17:00"}]; outside them nobody in this rotation is on call. Empty: always.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["team", "layer", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="rotation_unique_team_name")]

    def __str__(self) -> str:
        return f"{self.team} · {self.name} ({self.layer})"

    @property
    def shift_length(self) -> str:
        return format_shift_length(self.shift_count, self.shift_unit)

    @property
    def step(self) -> timedelta:
        """One shift in wall-clock terms (naive arithmetic on local readings)."""
        try:
            return timedelta(**{self.shift_unit: self.shift_count})
        except OverflowError:  # a row from before lengths were capped: longer than the calendar anyway
            return timedelta(days=10_000 * 366)

    @property
    def first_handoff(self) -> datetime:
        """The first hand-off as a naive local reading (not an instant)."""
        return datetime.combine(self.handoff_date, self.handoff_time)

    def clean(self) -> None:
        if self.shift_count is not None and self.shift_count < 1:
            raise ValidationError({"shift_count": "A shift lasts at least one unit."})
        if self.shift_count is not None and self.shift_unit in self.Unit.values:
            if self.shift_count * UNIT_HOURS[self.shift_unit] > LONGEST_SHIFT_HOURS:
                raise ValidationError({"shift_count": "A shift lasts at most a year: 365 days, 52 weeks or 8760 hours."})
        check_instant(self.ends_at, "ends_at")
        if self.handoff_date is not None and self.handoff_time is not None and self.timezone:
            try:
                zone = ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                return  # the timezone field's own validator says so
            if place(self.first_handoff, zone) is None:
                raise ValidationError({"handoff_date": range_message(f"{shown(self.first_handoff)} in {self.timezone}")})


class RotationParticipant(models.Model):
    """One place in a rotation's order, valid from ``effective_from``.

    The participants in force at an instant are the rows with the latest
    ``effective_from`` not after it (the first set also covers everything
    before it), so changing the order from a moment adds rows and leaves the
    shifts before that moment as they were.
    """

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="rotation_places")
    position = models.PositiveIntegerField()
    effective_from = models.DateTimeField()

    class Meta:
        ordering = ["rotation", "effective_from", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "effective_from", "position"],
                                    name="participant_unique_place"),
        ]

    def __str__(self) -> str:
        return f"{self.user} #{self.position} from {self.effective_from:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        check_instant(self.effective_from, "effective_from")


class OverrideQuerySet(models.QuerySet):
    def overlapping(self, start: datetime, end: datetime) -> "OverrideQuerySet":
        return self.filter(start_at__lt=end, end_at__gt=start)


class Override(models.Model):
    """A person takes [start_at, end_at) of a rotation; where overrides overlap, the later one wins."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="overrides")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = OverrideQuerySet.as_manager()

    class Meta:
        # Creation order decides who wins an overlap; id breaks ties in the same instant.
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["rotation", "end_at", "start_at"], name="override_rotation_window")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_at__gt=models.F("start_at")), name="override_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.rotation} {self.start_at:%Y-%m-%d %H:%M}–{self.end_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        check_instant(self.start_at, "start_at")
        check_instant(self.end_at, "end_at")
        check_cover_length(self.start_at, self.end_at, "An override", "end_at")


class SwapRequest(models.Model):
    """One participant asks another to take [start_at, end_at); accepting creates an override."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="swap_requests")
    requester = models.ForeignKey(User, on_delete=models.CASCADE, related_name="swaps_requested")
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="swaps_received")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    message = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    override = models.OneToOneField(Override, null=True, blank=True, on_delete=models.SET_NULL, related_name="swap")
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.requester} → {self.recipient} ({self.status})"

    def clean(self) -> None:
        check_instant(self.start_at, "start_at")
        check_instant(self.end_at, "end_at")
        check_cover_length(self.start_at, self.end_at, "A swap", "end_at")


def new_calendar_secret() -> str:
    return secrets.token_urlsafe(24)


class CalendarToken(models.Model):
    """The secret in a calendar feed URL, for one person or one team. Rotating replaces it."""

    token = models.CharField(max_length=64, unique=True, default=new_calendar_secret)
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_token")
    team = models.OneToOneField(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_token")
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False, team__isnull=True) | models.Q(user__isnull=True, team__isnull=False)),
                name="calendar_token_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"calendar of {self.user or self.team}"


class HandoffNote(models.Model):
    """What the outgoing person wants the incoming one to know at a hand-off."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="handoff_notes")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="handoff_notes")
    handoff_at = models.DateTimeField(help_text="The hand-off this note is for.")
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-handoff_at", "-created_at"]
        indexes = [models.Index(fields=["rotation", "handoff_at"], name="handoffnote_rotation_at")]

    def __str__(self) -> str:
        return f"note by {self.author} for {self.handoff_at:%Y-%m-%d %H:%M}"


class HandoffNotice(models.Model):
    """One row per (rotation, hand-off instant): the checklist email was sent. Makes the task idempotent."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="handoff_notices")
    handoff_at = models.DateTimeField()
    outgoing = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    incoming = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rotation", "handoff_at"], name="handoffnotice_once")]

    def __str__(self) -> str:
        return f"hand-off {self.handoff_at:%Y-%m-%d %H:%M}"


class ShiftReminder(models.Model):
    """One row per (rotation, person, shift start): the reminder was sent."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="shift_reminders")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    shift_start_at = models.DateTimeField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rotation", "user", "shift_start_at"], name="shiftreminder_once"),
        ]

    def __str__(self) -> str:
        return f"reminder to {self.user_id} for {self.shift_start_at:%Y-%m-%d %H:%M}"


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
