"""Delivery: each message sent once, retried with backoff, failed for good on the timeline, never after an ack.

The receiver is a local fake webhook server (its requests are what a person
would get); time is injected through ``now=`` as the sweep and the tasks do.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents.queries import timeline
from incidents.services import acknowledge_incident
from oncall.models import EscalationPolicy
from paging.models import EscalationRun, Notification
from paging.services.delivery import _claim, deliver, deliver_due
from paging.services.escalation import advance_escalation, sweep
from paging.services.notify import message
from paging.services.pages import page
from tests.factories import make_incident
from tests.fakes import Answer

T0 = timezone.now().replace(microsecond=0)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def receiver(http_server):
    return http_server(Answer(200))


@pytest.fixture
def hooked(contact, bob, receiver):
    """Bob's webhook, used at once for every page."""
    return contact(bob, "webhook", f"{receiver.url}/vigil", delay_minutes=0)


def test_a_duplicate_delivery_sends_once(receiver, hooked, bob):
    note = message(user=bob, method=hooked, kind="test", subject="Test", body="x", now=T0)

    assert deliver(note.pk, now=T0) == "sent"
    assert deliver(note.pk, now=T0) == "skipped"  # the same task delivered twice
    assert deliver_due(now=at(60)) == 0  # and the sweep after it

    assert len(receiver.requests) == 1
    note.refresh_from_db()
    assert (note.status, note.attempts) == ("sent", 1)


def test_a_failure_is_retried_with_backoff_then_failed_on_the_timeline(
        settings, receiver, hooked, payments, alice, bob):
    settings.PAGING_MAX_ATTEMPTS, settings.PAGING_RETRY_BASE_SECONDS = 3, 10
    receiver.default = Answer(503)
    incident = make_incident(team=payments, by=alice, now=T0)
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice, now=T0)
    hook = Notification.objects.get(channel="webhook")

    assert deliver(hook.pk, now=T0) == "queued"
    hook.refresh_from_db()
    assert (hook.status, hook.attempts) == ("queued", 1)
    assert at(10) <= hook.next_attempt_at < at(11)  # 10 s after the first attempt
    assert "answered 503" in hook.last_error

    deliver_due(now=at(9))
    assert len(receiver.requests) == 1, "not before its backoff"
    deliver_due(now=at(11))
    hook.refresh_from_db()
    assert (hook.attempts, len(receiver.requests)) == (2, 2)
    assert at(31) <= hook.next_attempt_at < at(32)  # then 20 s

    deliver_due(now=at(32))
    hook.refresh_from_db()
    assert (hook.status, hook.attempts, hook.next_attempt_at, len(receiver.requests)) == ("failed", 3, None, 3)
    deliver_due(now=at(3600))
    assert len(receiver.requests) == 3, "failed for good: not tried again"

    failures = [e.summary for e in timeline(incident) if e.data.get("event") == "delivery_failed"]
    assert failures == ["Could not reach Bob Baker by Webhook after 3 attempts: The webhook at 127.0.0.1 "
                        "answered 503 Service Unavailable"]


def test_an_error_retrying_cannot_fix_fails_at_the_first_attempt(receiver, hooked, payments, alice, bob):
    receiver.default = Answer(410)
    incident = make_incident(team=payments, by=alice, now=T0)
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice, now=T0)

    assert deliver(Notification.objects.get(channel="webhook").pk, now=T0) == "failed"
    assert [e.summary for e in timeline(incident) if e.data.get("event") == "delivery_failed"] == [
        "Could not reach Bob Baker by Webhook after 1 attempt: The webhook at 127.0.0.1 answered 410 Gone"]


def test_a_lease_held_by_another_delivery_is_respected(settings, receiver, hooked, bob):
    settings.PAGING_DELIVERY_LEASE_SECONDS = 30
    note = message(user=bob, method=hooked, kind="test", subject="Test", body="x", now=T0)
    assert _claim(note.pk, T0) is not None  # another worker took it and is sending (or died doing so)

    assert deliver(note.pk, now=at(1)) == "skipped"
    assert deliver_due(now=at(29)) == 0

    assert receiver.requests == []
    note.refresh_from_db()
    assert (note.status, note.attempts) == ("sending", 1)


def test_an_expired_lease_is_delivered_by_the_sweep(settings, receiver, hooked, bob):
    settings.PAGING_DELIVERY_LEASE_SECONDS = 30
    note = message(user=bob, method=hooked, kind="test", subject="Test", body="x", now=T0)
    _claim(note.pk, T0)  # a worker took it, then died before sending

    assert deliver_due(now=at(31)) == 1

    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["X-Vigil-Delivery"] == str(note.pk)
    note.refresh_from_db()
    assert (note.status, note.attempts, note.lease_until) == ("sent", 2, None)


def test_a_page_whose_incident_was_acknowledged_before_its_delayed_rule_is_cancelled(
        contact, receiver, payments, alice, bob):
    EscalationPolicy.objects.create(team=payments, name="Bob first", is_default=True,
                                    steps=[{"delay_minutes": 30, "targets": [{"type": "user", "id": bob.pk}]}])
    contact(bob, "webhook", f"{receiver.url}/vigil", delay_minutes=5)  # "webhook after 5 minutes"
    incident = make_incident(team=payments, by=alice, now=T0)

    sweep(now=T0)
    assert [m.to[0] for m in mail.outbox] == ["bob@example.com"]  # the e-mail at once
    acknowledge_incident(incident=incident, by=bob, now=at(60))
    sweep(now=at(6 * 60))

    assert receiver.requests == []
    hook = Notification.objects.get(channel="webhook")
    assert hook.status == "cancelled" and "acknowledged" in hook.last_error


def test_a_page_held_by_a_dead_worker_is_not_sent_after_the_acknowledgement(
        settings, contact, receiver, payments, alice, bob):
    settings.PAGING_DELIVERY_LEASE_SECONDS = 30
    EscalationPolicy.objects.create(team=payments, name="Bob first", is_default=True,
                                    steps=[{"delay_minutes": 30, "targets": [{"type": "user", "id": bob.pk}]}])
    contact(bob, "webhook", f"{receiver.url}/vigil", delay_minutes=0)
    incident = make_incident(team=payments, by=alice, now=T0)
    advance_escalation(EscalationRun.objects.get(incident=incident).pk, now=T0)  # step 1: its rows, not sent yet
    hook = Notification.objects.get(channel="webhook")
    _claim(hook.pk, T0)  # a worker took it, then died before sending
    acknowledge_incident(incident=incident, by=bob, now=at(5))

    deliver_due(now=at(31))

    assert receiver.requests == []
    hook.refresh_from_db()
    assert hook.status == "cancelled" and hook.last_error == "Not sent: the incident was acknowledged before this was due"
