"""Hand-off checklists and shift reminders: sent once, at the right time, with the team's real context.

They go through paging's delivery (``oncall.hooks.send_to_person``): each
person's e-mail is a notification, delivered once the claim commits; the
tests deliver what is queued (``deliver_queued``) and read the outbox.
"""

from datetime import timedelta

import pytest
from django.core import mail

from oncall import hooks
from oncall.services import create_override, write_handoff_note
from oncall.tasks import notify_handoffs, remind_upcoming_shifts
from paging.models import Notification
from tests.factories import make_incident
from tests.oncall.helpers import utc

HANDOFF = utc(2026, 3, 9, 8)  # Monday 09:00 in Berlin: alice hands over to bob


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob], handoff_at="2026-03-02T09:00")


def test_handoff_email_goes_to_outgoing_and_incoming_once(rotation, alice, bob, deliver_queued):
    # The open incident below reaches the checklist through the hook IncidentsConfig.ready registers.
    make_incident(team=rotation.team, by=alice, title="Checkout is failing", now=HANDOFF - timedelta(hours=3))
    write_handoff_note(rotation=rotation, author=alice, body="Card processor is flaky; watch the retries.",
                       now=HANDOFF - timedelta(hours=1))

    assert notify_handoffs(now=HANDOFF + timedelta(minutes=1)) == 1
    assert notify_handoffs(now=HANDOFF + timedelta(minutes=2)) == 0
    assert deliver_queued() == 2

    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    message = mail.outbox[0]
    assert mail.outbox[1].body == message.body
    assert "Payments primary" in message.subject
    body = message.body
    assert "Outgoing: Alice Archer" in body and "Incoming: Bob Baker" in body
    assert "Mon 2026-03-09 09:00 CET" in body
    for item in ("Review open incidents", "Review alerts of the last 24 hours", "Check ongoing investigations",
                 "Verify your contact information", "Review scheduled maintenance", "Brief on known issues"):
        assert item in body
    assert "Checkout is failing (triggered)" in body
    assert "Card processor is flaky; watch the retries." in body


def test_no_handoff_email_before_the_handoff_or_long_after(rotation, deliver_queued):
    assert notify_handoffs(now=HANDOFF - timedelta(minutes=1)) == 0
    assert notify_handoffs(now=HANDOFF + timedelta(hours=2)) == 0
    assert deliver_queued() == 0
    assert mail.outbox == []


def test_an_override_boundary_is_a_handoff_too(rotation, alice, bob, nora, deliver_queued):
    create_override(rotation=rotation, user=nora, start=utc(2026, 3, 4, 12), end=utc(2026, 3, 5, 12), by=alice)

    assert notify_handoffs(now=utc(2026, 3, 4, 12, 5)) == 1
    deliver_queued()

    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "nora@example.com"]
    assert "Incoming: Nora North" in mail.outbox[0].body


def test_a_quiet_team_still_gets_every_checklist_item(rotation, deliver_queued):
    notify_handoffs(now=HANDOFF + timedelta(minutes=1))
    deliver_queued()

    assert "[ ] Review open incidents: nothing to report" in mail.outbox[0].body


def test_handoffs_and_reminders_are_notifications_in_the_persons_list(rotation, alice, bob, deliver_queued):
    notify_handoffs(now=HANDOFF + timedelta(minutes=1))
    remind_upcoming_shifts(now=HANDOFF - timedelta(hours=23))
    deliver_queued()

    sent = Notification.objects.order_by("kind", "user__username")
    assert [(n.kind, n.user.username, n.channel, n.status) for n in sent] == [
        ("handoff", "alice", "email", "sent"), ("handoff", "bob", "email", "sent"),
        ("reminder", "bob", "email", "sent")]


def test_without_paging_the_emails_go_out_through_django_once_committed(
        rotation, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(hooks, "_mailers", [])  # as if paging were not installed

    with django_capture_on_commit_callbacks(execute=True):
        assert notify_handoffs(now=HANDOFF + timedelta(minutes=1)) == 1

    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    assert not Notification.objects.exists()


def test_shift_reminder_is_sent_once_a_day_before(rotation, bob, deliver_queued):
    assert remind_upcoming_shifts(now=HANDOFF - timedelta(hours=25)) == 0
    assert remind_upcoming_shifts(now=HANDOFF - timedelta(hours=23)) == 1
    assert remind_upcoming_shifts(now=HANDOFF - timedelta(hours=22)) == 0
    deliver_queued()

    [message] = mail.outbox
    assert message.to == ["bob@example.com"]
    # Bob's own zone is UTC; the email shows his local time.
    assert "from Mon 2026-03-09 08:00 UTC to Mon 2026-03-16 08:00 UTC" in message.body


def test_reminder_lead_time_is_configurable(rotation, settings):
    settings.ONCALL_SHIFT_REMINDER_HOURS = 2

    assert remind_upcoming_shifts(now=HANDOFF - timedelta(hours=3)) == 0
    assert remind_upcoming_shifts(now=HANDOFF - timedelta(hours=1)) == 1
