"""A postmortem's review meeting: schedule it, move it, cancel it, and invite by calendar e-mail.

Each write locks the postmortem's row (two people scheduling at once: the second sees the first's meeting
and moves it), saves the meeting with its history (the reason is what the incident's timeline shows),
and e-mails each attendee through ``paging.services.notify.email_person`` with the .ics attached. The
e-mails are notification rows written in the same transaction and delivered after it commits, so a
refused change sends nothing. Attendees are people who may see the incident (its team's members, its
responders, staff): the invitation links to the postmortem.
"""

import uuid
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format

from core.instants import check_instant
from core.text import validate_one_line
from incidents.services import auto_tick
from oncall.models import User
from paging.models import Notification
from paging.services.notify import email_person

from .. import invitations
from ..models import Postmortem, ReviewMeeting
from ..queries import assignable_people
from .postmortem import PostmortemConflict, _locked, check_can_work

MIN_MINUTES, MAX_MINUTES = 15, 8 * 60


class MeetingNotScheduled(PostmortemConflict):
    code = "meeting_not_scheduled"


class MeetingOver(PostmortemConflict):
    code = "meeting_over"


def _check_attendees(incident, attendees: list[User]) -> None:
    if not attendees:
        raise ValidationError({"attendees": "Invite at least one person."})
    eligible = set(assignable_people(incident).filter(pk__in=[u.pk for u in attendees]).values_list("pk", flat=True))
    refused = [u for u in attendees if not u.is_active or (u.pk not in eligible and not u.is_staff)]
    if refused:
        names = ", ".join(u.username for u in refused)
        raise ValidationError({"attendees": f"{names} may not see {incident.number}: invite members of team "
                                            f"{incident.team.slug}, its responders or staff."})
    mailless = [u.username for u in attendees if not u.email]
    if mailless:
        raise ValidationError({"attendees": f"{', '.join(mailless)} has no e-mail address: the invitation "
                                            "could not reach them."})


def _check_time(starts_at: datetime, duration_minutes: int, location: str, now: datetime) -> None:
    check_instant(starts_at, "starts_at")
    if starts_at <= now:
        raise ValidationError({"starts_at": f"{_utc(starts_at)} has passed: pick a time in the future."})
    if not MIN_MINUTES <= duration_minutes <= MAX_MINUTES:
        raise ValidationError({"duration_minutes": f"Give between {MIN_MINUTES} and {MAX_MINUTES} minutes."})
    if len(location) > 300:
        raise ValidationError({"location": "At most 300 characters."})
    validate_one_line(location)


def _utc(at: datetime) -> str:
    return date_format(at.astimezone(UTC), "D j M Y H:i") + " UTC"


def _reason(verb: str, meeting: ReviewMeeting, attendees: list[User]) -> str:
    where = f", {meeting.location}" if meeting.location else ""
    names = ", ".join(sorted(u.display_name for u in attendees))
    return f"{verb}: {_utc(meeting.starts_at)}, {meeting.duration_minutes} min{where}; with {names}"


def _send(meeting: ReviewMeeting, *, method: str, attendees: list[User], to: list[User], now: datetime,
          change: str = "") -> None:
    ics = invitations.calendar(meeting, method=method, attendees=attendees, now=now)
    for person in to:
        subject, body = invitations.email(meeting, person, method=method, change=change)
        email_person(user=person, kind=Notification.Kind.PM_MEETING, subject=subject, body=body,
                     incident=meeting.postmortem.incident, attachments=[invitations.attachment(ics, method)], now=now)


def _save(meeting: ReviewMeeting, *, by: User | None, reason: str, now: datetime) -> None:
    meeting.updated_at = now
    meeting._history_user = by
    meeting._history_date = now
    meeting._change_reason = reason
    meeting.full_clean(exclude=["postmortem", "organizer"])
    meeting.save()


@transaction.atomic
def schedule_meeting(*, postmortem: Postmortem, starts_at: datetime, attendees: list[User], by: User | None,
                     duration_minutes: int = 60, location: str = "", now: datetime | None = None) -> ReviewMeeting:
    """Schedule the review meeting, or move or change the one scheduled.

    A new meeting (or one scheduled again after a cancellation: a new calendar event) invites every
    attendee; a change sends the same event with ``sequence`` + 1 to the attendees, and a cancellation
    to anyone no longer invited. The same time, place and people again changes and sends nothing. The
    first meeting ticks the incident's "Postmortem scheduled" checklist item (auto key ``postmortem``).
    """
    now = now or timezone.now()
    locked = _locked(postmortem)
    incident = locked.incident
    check_can_work(by, incident)
    location = (location or "").strip()
    _check_time(starts_at, duration_minutes, location, now)
    starts_at = starts_at.replace(microsecond=0)  # calendars keep whole seconds
    attendees = list({u.pk: u for u in attendees}.values())
    _check_attendees(incident, attendees)
    meeting = (ReviewMeeting.objects.select_for_update(of=("self",)).select_related("organizer")
               .filter(postmortem=locked).first())
    fresh = meeting is None or meeting.cancelled_at is not None
    moved = False
    if meeting is None:
        meeting = ReviewMeeting(postmortem=locked, created_at=now)
    before = [] if fresh else list(meeting.attendees.all())
    if fresh:  # a new calendar event: a cancelled one stays cancelled in calendars
        meeting.uid, meeting.sequence, meeting.cancelled_at, meeting.organizer = uuid.uuid4(), 0, None, by
        meeting.created_at = meeting.created_at or now
    else:
        same = (meeting.starts_at == starts_at and meeting.duration_minutes == duration_minutes
                and meeting.location == location and {u.pk for u in before} == {u.pk for u in attendees})
        if same:
            return meeting
        moved = meeting.starts_at != starts_at or meeting.duration_minutes != duration_minutes
        meeting.sequence += 1
    meeting.postmortem = locked
    meeting.starts_at, meeting.duration_minutes, meeting.location = starts_at, duration_minutes, location
    verb = "scheduled" if fresh else ("moved" if moved else "changed")
    _save(meeting, by=by, reason=_reason(verb, meeting, attendees), now=now)
    meeting.attendees.set(attendees)
    _send(meeting, method=invitations.REQUEST, attendees=attendees, to=attendees, now=now,
          change="" if fresh else verb)
    removed = [u for u in before if u.pk not in {a.pk for a in attendees}]
    if removed:
        _send(meeting, method=invitations.CANCEL, attendees=removed, to=removed, now=now)
    if fresh:
        auto_tick(incident=incident, key="postmortem", phase="after", now=now)
    return meeting


@transaction.atomic
def cancel_meeting(*, postmortem: Postmortem, by: User | None, now: datetime | None = None) -> ReviewMeeting:
    """Cancel the scheduled review meeting: every attendee gets the event's cancellation (``sequence`` + 1).
    Refused (MeetingNotScheduled) when none is scheduled, (MeetingOver) once it has ended."""
    now = now or timezone.now()
    locked = _locked(postmortem)
    check_can_work(by, locked.incident)
    meeting = (ReviewMeeting.objects.select_for_update(of=("self",)).select_related("organizer")
               .filter(postmortem=locked, cancelled_at__isnull=True).first())
    if meeting is None:
        raise MeetingNotScheduled(f"The postmortem of {locked.incident.number} has no review meeting scheduled.")
    if invitations.ends_at(meeting) <= now:
        raise MeetingOver("This review meeting has already taken place: there is nothing to cancel.")
    meeting.postmortem = locked
    attendees = list(meeting.attendees.all())
    meeting.sequence += 1
    meeting.cancelled_at = now
    _save(meeting, by=by, reason=_reason("cancelled", meeting, attendees), now=now)
    _send(meeting, method=invitations.CANCEL, attendees=attendees, to=attendees, now=now)
    return meeting
