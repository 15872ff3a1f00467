"""The review meeting: scheduling it e-mails each attendee a calendar invitation (a real .ics, through
paging's e-mail channel to a local SMTP relay); moving it sends the same event with the next SEQUENCE,
cancelling sends METHOD:CANCEL. Attendees may see the incident; the meeting is on the incident's timeline,
in its own history, and ticks the "Postmortem scheduled" checklist item."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from icalendar import Calendar

from incidents.models import ChecklistItem
from incidents.queries import timeline
from paging.models import Notification
from postmortems.models import ReviewMeeting
from postmortems.services import MeetingNotScheduled, cancel_meeting, schedule_meeting
from tests.paging.conftest import smtp_server  # noqa: F401 — the local SMTP relay fixture

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
AT = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)


def invitations(server) -> list[tuple[str, object, Calendar]]:
    """Each e-mail the relay took: (recipient, the message, its parsed calendar part)."""
    found = []
    for envelope, mail in zip(server.envelopes, server.messages, strict=True):
        (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
        found.append((envelope[1][0], mail, Calendar.from_ical(part.get_payload(decode=True))))
    return found


def event_of(cal: Calendar):
    (event,) = cal.walk("VEVENT")
    return event


def test_scheduling_emails_each_attendee_a_calendar_invitation(smtp_server, deliver_queued, postmortem,  # noqa: F811
                                                               alice, bob):
    meeting = schedule_meeting(postmortem=postmortem, starts_at=AT, duration_minutes=45, location="Room 4",
                               attendees=[alice, bob], by=alice, now=NOW)
    assert deliver_queued() == 2
    sent = invitations(smtp_server)
    assert sorted(to for to, _, _ in sent) == ["alice@example.com", "bob@example.com"]
    to, mail, cal = next(s for s in sent if s[0] == "bob@example.com")
    assert mail.is_multipart() and mail.get_content_type() == "multipart/mixed"
    (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "invite.ics"
    incident = postmortem.incident
    assert mail["Subject"] == f"Invitation: Postmortem review: {incident.number} {incident.title}"
    body = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_content()
    assert "When: Thu 5 Mar 2026 14:00–14:45 UTC (45 min)" in body  # bob reads UTC
    assert f"/postmortems/{postmortem.pk}/" in body
    event = event_of(cal)
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == str(meeting.uid) and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == AT and event.decoded("DTEND") == AT + timedelta(minutes=45)
    assert event["DTSTART"].to_ical() == b"20260305T140000Z"
    assert str(event["SUMMARY"]) == f"Postmortem review: {incident.number} {incident.title}"
    assert f"/postmortems/{postmortem.pk}/" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:alice@example.com" and event["ORGANIZER"].params["CN"] == "Alice Archer"
    assert sorted(str(a) for a in event["ATTENDEE"]) == ["mailto:alice@example.com", "mailto:bob@example.com"]
    assert str(event["LOCATION"]) == "Room 4"
    alice_mail = next(m for t, m, _ in sent if t == "alice@example.com")
    alice_body = next(p for p in alice_mail.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Thu 5 Mar 2026 15:00–15:45 Europe/Berlin (14:00 UTC)" in alice_body  # her own zone


def test_moving_it_sends_the_same_event_with_the_next_sequence(smtp_server, deliver_queued, postmortem,  # noqa: F811
                                                               alice, bob):
    first = schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice, bob], by=alice, now=NOW)
    deliver_queued()
    smtp_server.messages.clear(), smtp_server.envelopes.clear()
    moved = schedule_meeting(postmortem=postmortem, starts_at=AT + timedelta(days=1), attendees=[alice, bob],
                             by=bob, now=NOW + timedelta(hours=1))
    assert deliver_queued() == 2
    assert moved.pk == first.pk and moved.uid == first.uid and moved.sequence == 1
    for _, mail, cal in invitations(smtp_server):
        event = event_of(cal)
        assert str(event["UID"]) == str(first.uid) and int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == AT + timedelta(days=1)
        assert mail["Subject"].startswith("Moved: ")
        assert str(event["ORGANIZER"]) == "mailto:alice@example.com"  # the organizer stays


def test_someone_no_longer_invited_gets_a_cancellation(smtp_server, deliver_queued, postmortem, alice, bob):  # noqa: F811
    schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice, bob], by=alice, now=NOW)
    deliver_queued()
    smtp_server.messages.clear(), smtp_server.envelopes.clear()
    schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice], by=alice, now=NOW)
    deliver_queued()
    methods = {to: (str(cal["METHOD"]), mail["Subject"].split(":")[0]) for to, mail, cal in invitations(smtp_server)}
    assert methods == {"alice@example.com": ("REQUEST", "Updated"), "bob@example.com": ("CANCEL", "Cancelled")}


def test_the_same_meeting_again_sends_nothing(smtp_server, deliver_queued, postmortem, alice, bob):  # noqa: F811
    schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice, bob], by=alice, now=NOW)
    again = schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[bob, alice], by=bob, now=NOW)
    assert again.sequence == 0
    assert deliver_queued() == 2


def test_cancelling_sends_method_cancel_with_the_next_sequence(smtp_server, deliver_queued, postmortem,  # noqa: F811
                                                               alice, bob):
    meeting = schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice, bob], by=alice, now=NOW)
    deliver_queued()
    smtp_server.messages.clear(), smtp_server.envelopes.clear()
    cancel_meeting(postmortem=postmortem, by=bob, now=NOW)
    assert deliver_queued() == 2
    for _, mail, cal in invitations(smtp_server):
        event = event_of(cal)
        assert str(cal["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == str(meeting.uid) and int(event["SEQUENCE"]) == 1
        assert mail["Subject"].startswith("Cancelled: ")
    with pytest.raises(MeetingNotScheduled):
        cancel_meeting(postmortem=postmortem, by=bob, now=NOW)
    again = schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[bob], by=bob, now=NOW)
    assert again.uid != meeting.uid and again.sequence == 0 and again.cancelled_at is None  # a new event


def test_attendees_must_be_able_to_see_the_incident(postmortem, alice, charlie, sam):
    with pytest.raises(ValidationError, match="charlie may not see INC-"):
        schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice, charlie], by=alice, now=NOW)
    with pytest.raises(ValidationError, match="in the future"):
        schedule_meeting(postmortem=postmortem, starts_at=NOW - timedelta(minutes=1), attendees=[alice], by=alice,
                         now=NOW)
    with pytest.raises(PermissionDenied):
        schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice], by=charlie, now=NOW)
    assert schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice, sam], by=alice, now=NOW)
    assert not Notification.objects.filter(user=charlie).exists()


def test_the_meeting_is_on_the_timeline_in_its_history_and_ticks_the_checklist(postmortem, alice, bob):
    incident = postmortem.incident
    item = ChecklistItem.objects.get(incident=incident, text="Postmortem scheduled")
    assert item.auto == "postmortem" and item.done_at is None
    schedule_meeting(postmortem=postmortem, starts_at=AT, attendees=[alice, bob], by=alice, now=NOW)
    schedule_meeting(postmortem=postmortem, starts_at=AT + timedelta(hours=2), attendees=[alice, bob], by=bob,
                     now=NOW + timedelta(minutes=5))
    cancel_meeting(postmortem=postmortem, by=bob, now=NOW + timedelta(minutes=10))
    item.refresh_from_db()
    assert item.done_at == NOW and item.done_by is None  # ticked by Vigil
    summaries = [e.summary for e in timeline(incident) if e.kind == "postmortem" and "meeting" in e.summary]
    assert summaries == [
        "Postmortem review meeting scheduled: Thu 5 Mar 2026 14:00 UTC, 60 min; with Alice Archer, Bob Baker",
        "Postmortem review meeting moved: Thu 5 Mar 2026 16:00 UTC, 60 min; with Alice Archer, Bob Baker",
        "Postmortem review meeting cancelled: Thu 5 Mar 2026 16:00 UTC, 60 min; with Alice Archer, Bob Baker",
    ]
    history = ReviewMeeting.objects.get(postmortem=postmortem).history.order_by("history_date")
    assert [(h.history_user.username, h.sequence) for h in history] == [("alice", 0), ("bob", 1), ("bob", 2)]


# --- The API -----------------------------------------------------------------------------

def _url(postmortem) -> str:
    return f"/api/v1/postmortems/{postmortem.pk}/meeting/"


def test_api_schedules_moves_and_cancels(api, postmortem, alice, bob):
    client = api.as_user(alice)
    at = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    created = client.post(_url(postmortem), {"starts_at": at.isoformat(), "attendees": ["alice", "bob"],
                                             "location": "https://meet.example.com/pm"}, format="json")
    assert created.status_code == 200, created.json()
    meeting = created.json()["meeting"]
    assert meeting["attendees"] == ["alice", "bob"] and meeting["organizer"] == "alice"
    assert meeting["duration_minutes"] == 60 and meeting["sequence"] == 0 and meeting["cancelled"] is False
    assert datetime.fromisoformat(meeting["ends_at"]) == at + timedelta(hours=1)
    moved = client.post(_url(postmortem), {"starts_at": (at + timedelta(hours=3)).isoformat()}, format="json")
    assert moved.status_code == 200
    assert moved.json()["meeting"]["sequence"] == 1 and moved.json()["meeting"]["attendees"] == ["alice", "bob"]
    assert moved.json()["meeting"]["location"] == "https://meet.example.com/pm"  # kept
    assert client.get(f"/api/v1/postmortems/{postmortem.pk}/").json()["meeting"]["uid"] == meeting["uid"]
    cancelled = client.delete(_url(postmortem))
    assert cancelled.status_code == 200 and cancelled.json()["meeting"]["cancelled"] is True
    again = client.delete(_url(postmortem))
    assert again.status_code == 409 and again.json()["code"] == "meeting_not_scheduled"


def test_api_refuses_bad_meetings_with_clear_400s(api, postmortem, alice, charlie):
    client = api.as_user(alice)
    future = (timezone.now() + timedelta(days=1)).isoformat()
    past = client.post(_url(postmortem), {"starts_at": "2020-01-01T10:00:00Z", "attendees": ["alice"]}, format="json")
    assert past.status_code == 400 and "in the future" in str(past.json()["starts_at"])
    outsider = client.post(_url(postmortem), {"starts_at": future, "attendees": ["alice", "charlie"]}, format="json")
    assert outsider.status_code == 400 and "charlie may not see" in str(outsider.json()["attendees"])
    unknown = client.post(_url(postmortem), {"starts_at": future, "attendees": ["nobody"]}, format="json")
    assert unknown.status_code == 400 and "Unknown user 'nobody'" in str(unknown.json()["attendees"])
    missing = client.post(_url(postmortem), {"starts_at": future}, format="json")
    assert missing.status_code == 400 and "attendees" in missing.json()
    too_long = client.post(_url(postmortem), {"starts_at": future, "attendees": ["alice"], "duration_minutes": 600},
                           format="json")
    assert too_long.status_code == 400 and "duration_minutes" in too_long.json()
    assert client.get(f"/api/v1/postmortems/{postmortem.pk}/").json()["meeting"] is None


def test_an_outsider_gets_404(api, postmortem, charlie):
    client = api.as_user(charlie)
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert client.post(_url(postmortem), {"starts_at": future, "attendees": ["charlie"]},
                       format="json").status_code == 404
    assert client.delete(_url(postmortem)).status_code == 404


# --- The page ------------------------------------------------------------------------------

def test_the_page_schedules_in_the_readers_zone_and_shows_the_card(client, postmortem, alice, bob):
    client.force_login(alice)  # Europe/Berlin
    page = client.get(f"/postmortems/{postmortem.pk}/")
    html = page.content.decode()
    assert 'id="meeting"' in html and "Not scheduled yet" in html and "Starts (your time, Europe/Berlin)" in html
    year = timezone.now().year + 1
    response = client.post(f"/postmortems/{postmortem.pk}/meeting/", {
        "starts_at": f"{year}-01-15T15:00", "duration_minutes": "30", "location": "Room 4",
        "attendees": [str(alice.pk), str(bob.pk)]})
    assert response.status_code == 302 and response["Location"].endswith("#meeting")
    meeting = ReviewMeeting.objects.get(postmortem=postmortem)
    assert meeting.starts_at == datetime(year, 1, 15, 14, 0, tzinfo=UTC)  # 15:00 in Berlin, winter
    same = client.post(f"/postmortems/{postmortem.pk}/meeting/", {
        "starts_at": f"{year}-01-15T15:00", "duration_minutes": "30", "location": "Room 4",
        "attendees": [str(alice.pk), str(bob.pk)]}, follow=True)
    assert "Nothing changed: no invitation sent." in same.content.decode()
    assert Notification.objects.filter(kind=Notification.Kind.PM_MEETING).count() == 2
    html = client.get(f"/postmortems/{postmortem.pk}/").content.decode()
    assert "Move or change it" in html and "Cancel the meeting" in html and "Room 4" in html
    assert f"15 Jan {year} 15:00" in html and "Europe/Berlin" in html
    refused = client.post(f"/postmortems/{postmortem.pk}/meeting/", {
        "starts_at": "2020-01-15T15:00", "duration_minutes": "30",
        "attendees": [str(alice.pk)]})
    assert refused.status_code == 400 and "in the future" in refused.content.decode()
    assert client.post(f"/postmortems/{postmortem.pk}/meeting/cancel/").status_code == 302
    assert ReviewMeeting.objects.get(postmortem=postmortem).cancelled_at is not None


def test_an_outsider_gets_404_on_the_meeting_pages(client, postmortem, charlie):
    client.force_login(charlie)
    assert client.post(f"/postmortems/{postmortem.pk}/meeting/", {}).status_code == 404
    assert client.post(f"/postmortems/{postmortem.pk}/meeting/cancel/").status_code == 404
